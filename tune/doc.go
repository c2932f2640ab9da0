// Package tune searches hyper-parameters: search spaces (Optuna's float,
// int and categorical distributions, read from JSON or flags), samplers
// (random search and Optuna's TPE, the tree-structured Parzen estimator),
// Optuna's median pruning of unpromising trials on their intermediate
// evaluations, a time budget as fastText's -autotune-duration, and trial
// records kept as JSON lines so that a search resumes after an
// interruption. Study runs the search; ClassicObjective and
// TransformerObjective train and evaluate one configuration of each arch
// with the packages classic and train.
//
// The sampler and pruner follow Optuna's code (optuna/samplers/_tpe,
// optuna/pruners/_percentile.py) and are checked against it by
// scripts/tune/gen.py. Plots of a search are drawn by package plot.
package tune
