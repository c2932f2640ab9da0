'use strict';
// variant_cases.js lists the golden cases of the coverage variants (filled by build_variants.js's list).
const variants = [];
module.exports = { variants };
