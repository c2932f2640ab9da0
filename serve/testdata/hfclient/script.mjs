// Runs the npm client @huggingface/inference's textClassification against a
// textclf server: node script.mjs URL CALLS, where CALLS is a JSON list of
// each call's arguments ({inputs, parameters}). Prints a JSON list with each
// call's result, or {"error": message} where the client threw. The client
// may fetch nothing but URL.
import { InferenceClient } from "@huggingface/inference";

const [url, calls] = process.argv.slice(2);
if (!url || !calls) {
	console.error("usage: node script.mjs URL CALLS_JSON");
	process.exit(2);
}

const fetchURL = globalThis.fetch;
globalThis.fetch = (input, init) => {
	const target = String(input instanceof Request ? input.url : input);
	if (!target.startsWith(url)) {
		throw new Error(`refusing to fetch ${target}: the test allows only ${url}`);
	}
	return fetchURL(input, init);
};

const client = new InferenceClient();
const results = [];
for (const args of JSON.parse(calls)) {
	try {
		results.push(await client.textClassification({ endpointUrl: url, ...args }, { retry_on_error: false }));
	} catch (err) {
		results.push({ error: err.message });
	}
}
console.log(JSON.stringify(results));
