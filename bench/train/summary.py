#!/usr/bin/python3
"""Summary of the SST-2 accuracy run (bench/train/sst2.sh): reads OUT/times.json,
OUT/textclf/{trainer_state.json,metrics.jsonl}, OUT/textclf_eval.json and
OUT/torch/torch_result.json, prints the comparison and writes OUT/summary.json."""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main(out):
    times = load(os.path.join(out, "times.json"))
    state = load(os.path.join(out, "textclf", "trainer_state.json"))
    tc_eval = load(os.path.join(out, "textclf_eval.json"))
    pt = load(os.path.join(out, "torch", "torch_result.json"))

    tc_evals = [e for e in state["log_history"] if e.get("eval")]
    tc_logs = [e for e in state["log_history"] if e.get("loss") is not None]
    steps = state["max_steps"]
    if steps != pt["steps"]:
        raise SystemExit("textclf ran %d steps, PyTorch %d" % (steps, pt["steps"]))

    # The loss curves: textclf logs the mean loss of each logging window.
    pt_loss = {x["step"]: x["loss"] for x in pt["losses"]}
    pt_time = {x["step"]: x["elapsed_s"] for x in pt["losses"]}
    prev, worst_loss = 0, 0.0
    for e in tc_logs:
        window = [pt_loss[s] for s in range(prev + 1, e["step"] + 1)]
        worst_loss = max(worst_loss, abs(e["loss"] - sum(window) / len(window)))
        prev = e["step"]

    # Steady-state seconds per step, over the same steps on both sides: from the
    # first logged step to the last logged step of the first epoch (no evaluation inside).
    first = [e for e in tc_logs if e["epoch"] <= 1]
    s0, s1 = first[0]["step"], first[-1]["step"]
    if s1 == s0:
        raise SystemExit("too few steps to time (one logging window); use a larger --train-size")
    tc_sps = (first[-1]["elapsed_s"] - first[0]["elapsed_s"]) / (s1 - s0)
    pt_sps = (pt_time[s1] - pt_time[s0]) / (s1 - s0)

    acc_tc = tc_eval["accuracy"]
    acc_pt = pt["dev_accuracy"]
    per_epoch = []
    for i, e in enumerate(pt["evals"]):
        tce = tc_evals[i]["eval"]["accuracy"] if i < len(tc_evals) else None
        per_epoch.append({"epoch": e["epoch"], "textclf": tce, "torch": e["accuracy"]})
    s = {
        "train_rows": pt["train_rows"], "dev_rows": pt["eval_rows"], "steps": steps,
        "dev_accuracy_textclf": acc_tc, "dev_accuracy_torch": acc_pt,
        "difference_points": 100 * (acc_tc - acc_pt),
        "within_0_5_points": abs(100 * (acc_tc - acc_pt)) <= 0.5,
        "per_epoch_dev_accuracy": per_epoch,
        "max_window_loss_difference": worst_loss,
        "textclf_model_in_torch": pt.get("textclf_model"),
        "textclf_train_command_s": times["textclf_train_s"],
        "torch_train_loop_s": pt["train_loop_s"], "torch_script_s": times["torch_script_s"],
        "ratio_textclf_command_over_torch_loop": times["textclf_train_s"] / pt["train_loop_s"],
        "steady_steps": [s0, s1],
        "textclf_s_per_step": tc_sps, "torch_s_per_step": pt_sps,
        "ratio_s_per_step": tc_sps / pt_sps,
        "load_average": times["load"],
    }
    with open(os.path.join(out, "summary.json.tmp"), "w") as f:
        json.dump(s, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, "summary.json.tmp"), os.path.join(out, "summary.json"))

    print("SST-2 dev accuracy (%d rows), %d training rows, %d steps:" % (s["dev_rows"], s["train_rows"], steps))
    print("  textclf  %.2f %%" % (100 * acc_tc))
    print("  PyTorch  %.2f %%" % (100 * acc_pt))
    print("  difference %+.2f points (%s 0.5)" % (s["difference_points"], "within" if s["within_0_5_points"] else "NOT within"))
    for e in per_epoch:
        tce = "%.4f" % e["textclf"] if e["textclf"] is not None else "-"
        print("  epoch %d: textclf %s, PyTorch %.4f" % (e["epoch"], tce, e["torch"]))
    print("  largest difference of the windowed training loss: %.2e" % worst_loss)
    if s["textclf_model_in_torch"]:
        c = s["textclf_model_in_torch"]
        print("  textclf's weights in the PyTorch model: dev accuracy %.4f, predictions agree on %.2f %%, "
              "max |w_textclf - w_torch| %.2e (%s; largest change from init in PyTorch %.2e)"
              % (c["dev_accuracy_by_torch"], 100 * c["prediction_agreement"], c["max_abs_weight_diff"],
                 c["max_abs_weight_diff_tensor"], c["max_abs_weight_change_torch"]))
    print("Training time:")
    print("  textclf train (whole command, incl. tokenizing, dev eval, saving)  %.1f s" % times["textclf_train_s"])
    print("  PyTorch training loop %.1f s (whole script %.1f s)" % (pt["train_loop_s"], times["torch_script_s"]))
    print("  ratio textclf command / PyTorch loop  %.2f" % s["ratio_textclf_command_over_torch_loop"])
    print("  steps %d-%d: textclf %.3f s/step, PyTorch %.3f s/step, ratio %.2f"
          % (s0, s1, tc_sps, pt_sps, s["ratio_s_per_step"]))
    print("  load average: %s" % json.dumps(times["load"]))


if __name__ == "__main__":
    main(sys.argv[1])
