package metrics

import (
	"encoding/json"
	"fmt"
	"github.com/textclf/textclf/internal/atomicfile"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteText writes the report as an aligned table, like scikit-learn's
// classification_report, followed by the confusion matrix.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	width := len("weighted avg")
	for _, l := range r.Labels {
		width = max(width, len([]rune(l)))
	}
	fmt.Fprintf(&b, "%*s %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support")
	for _, c := range r.PerClass {
		fmt.Fprintf(&b, "%*s %9.4f %9.4f %9.4f %9d\n", width, c.Label, c.Precision, c.Recall, c.F1, c.Support)
	}
	b.WriteString("\n")
	if r.MultiLabel {
		fmt.Fprintf(&b, "%*s %9.4f %9s %9s %9d   (threshold %g)\n", width, "subset acc", r.SubsetAccuracy, "", "", r.N, r.Threshold)
	} else {
		fmt.Fprintf(&b, "%*s %9s %9s %9.4f %9d\n", width, "accuracy", "", "", r.Accuracy, r.N)
	}
	for _, a := range []struct {
		name string
		v    Average
	}{{"micro avg", r.Micro}, {"macro avg", r.Macro}, {"weighted avg", r.Weighted}} {
		fmt.Fprintf(&b, "%*s %9.4f %9.4f %9.4f %9d\n", width, a.name, a.v.Precision, a.v.Recall, a.v.F1, r.N)
	}
	if len(r.Confusion) > 0 {
		b.WriteString("\nconfusion matrix (rows: gold, columns: predicted)\n")
		cw := 6
		for _, l := range r.Labels {
			cw = max(cw, len([]rune(l)))
		}
		fmt.Fprintf(&b, "%*s", width, "")
		for _, l := range r.Labels {
			fmt.Fprintf(&b, " %*s", cw, l)
		}
		b.WriteString("\n")
		for g, row := range r.Confusion {
			fmt.Fprintf(&b, "%*s", width, r.Labels[g])
			for _, n := range row {
				fmt.Fprintf(&b, " %*d", cw, n)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":   func(v float64) string { return fmt.Sprintf("%.1f", 100*v) },
	"f4":    func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"shade": func(n, rowTotal int) string { return fmt.Sprintf("%.2f", 0.05+0.85*ratio(n, max(rowTotal, 1))) },
	"sum": func(row []int) int {
		s := 0
		for _, n := range row {
			s += n
		}
		return s
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f4f4f4}
td.l,th.l{text-align:left}
.bar{display:inline-block;height:12px;margin-right:4px}
.p{background:#4e79a7}.r{background:#f28e2b}.f{background:#59a14f}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.R.N}} examples, {{len .R.Labels}} {{if .R.MultiLabel}}labels (threshold {{.R.Threshold}}); subset accuracy <b>{{pct .R.SubsetAccuracy}}%</b>{{else}}classes; accuracy <b>{{pct .R.Accuracy}}%</b>{{end}}.
Macro F1 {{f4 .R.Macro.F1}}, micro F1 {{f4 .R.Micro.F1}}, weighted F1 {{f4 .R.Weighted.F1}}.</p>
<h2>Per class</h2>
<table><tr><th class="l">label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th class="l">bars (<span class="bar p" style="width:10px"></span>P <span class="bar r" style="width:10px"></span>R <span class="bar f" style="width:10px"></span>F1)</th></tr>
{{range .R.PerClass}}<tr><td class="l">{{.Label}}</td><td>{{f4 .Precision}}</td><td>{{f4 .Recall}}</td><td>{{f4 .F1}}</td><td>{{.Support}}</td>
<td class="l"><span class="bar p" style="width:{{pct .Precision}}px"></span><span class="bar r" style="width:{{pct .Recall}}px"></span><span class="bar f" style="width:{{pct .F1}}px"></span></td></tr>
{{end}}</table>
{{if .R.Confusion}}<h2>Confusion matrix</h2><p>Rows: gold class; columns: predicted class.</p>
<table><tr><th></th>{{range .R.Labels}}<th>{{.}}</th>{{end}}</tr>
{{range $g, $row := .R.Confusion}}{{$t := sum $row}}<tr><th class="l">{{index $.R.Labels $g}}</th>{{range $row}}<td style="background:rgba(78,121,167,{{shade . $t}})">{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
</body></html>
`))

// WriteHTML writes the report as a standalone HTML page with the confusion
// matrix and per-class bars.
func (r *Report) WriteHTML(w io.Writer, title string) error {
	return htmlTmpl.Execute(w, struct {
		Title string
		R     *Report
	}{title, r})
}

// WriteReportDir writes report.html and report.json into dir (created if
// missing), each through a temporary file renamed into place.
func (r *Report) WriteReportDir(dir, title string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, "report.html"), func(w io.Writer) error { return r.WriteHTML(w, title) }); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "report.json"), r.WriteJSON)
}

func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
