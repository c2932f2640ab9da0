package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/textclf/textclf"
)

// explain writes the library's explanations: one JSON object per text from
// arguments or stdin, or Captum's visualize_text page.
func TestExplainCommand(t *testing.T) {
	clf, err := textclf.Open(context.Background(), tinyBERT, textclf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"a great film", "一个 terrible movie"}
	out, err := runCLI(t, strings.Join(texts, "\n")+"\n", "explain", "--model", tinyBERT, "--steps", "16", "--target", "positive")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	for i, line := range lines {
		var got textclf.Explanation
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		want, err := clf.Explain(context.Background(), texts[i], textclf.ExplainOptions{Steps: 16, Target: "positive"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %d:\n got %+v\nwant %+v", i+1, got, want)
		}
		for _, field := range []string{`"label":"positive"`, `"attributions":[`, `"normalized":[`, `"delta":`, `"words":[`, `"offsets":[[0,0],`, `"method":"gausslegendre","steps":16`} {
			if !strings.Contains(line, field) {
				t.Fatalf("line %d has no %s: %s", i+1, field, line)
			}
		}
	}
	html, err := runCLI(t, "", "explain", "--model", tinyBERT, "--format", "html", "--method", "riemann_trapezoid", "--steps", "8", "a great film")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", ">great</mark>", ">[CLS]</mark>", "Attribution Score", "riemann_trapezoid, 8 steps", "hsl("} {
		if !strings.Contains(html, want) {
			t.Fatalf("html has no %q:\n%s", want, html)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--steps", "0", "x"}, "--steps must be positive, got 0"},
		{[]string{"--steps", "-3", "x"}, "--steps must be positive, got -3"},
		{[]string{"--target", "great", "x"}, `input 1: explain: target "great" is not a label of the model (labels: negative, neutral, positive)`},
		{[]string{"--format", "xml", "x"}, `--format must be jsonl or html, got "xml"`},
		{[]string{""}, "input 1: explain: empty text"},
		{[]string{"--method", "lime", "x"}, `input 1: explain: method must be gausslegendre, riemann_trapezoid or occlusion, got "lime"`},
	} {
		_, err := runCLI(t, "", append([]string{"explain", "--model", tinyBERT}, tc.args...)...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("explain %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
