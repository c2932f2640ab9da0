package serve

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/textclf/textclf"
)

// chromium finds Debian's chromium (or another Chrome); without one the
// browser test is skipped, unless TEXTCLF_REQUIRE_CHROMIUM=1 (as in
// .ci/run, which installs it) makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TEXTCLF_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium) and TEXTCLF_REQUIRE_CHROMIUM=1")
	}
	t.Skip("chromium is not installed; set TEXTCLF_REQUIRE_CHROMIUM=1 to make this a failure")
	return ""
}

// browser starts a headless chromium with a fresh profile, reaching only
// the loopback test server.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// postJSON posts body to the server and decodes the answer into v.
func postJSON(t *testing.T, url, body string, v any) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST %s: %d", url, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// The web page in a real browser: type a text, press the button, and the
// label scores and the token heatmap appear and equal /predict's and
// /explain's answers; on a phone-sized window nothing overflows sideways;
// /docs renders every route of /openapi.json. With TEXTCLF_SCREENSHOTS=DIR
// it saves screenshots of the page there.
func TestBrowserPage(t *testing.T) {
	ctx := browser(t)
	clf := loadTiny(t, tinyBERT, textclf.Options{})
	s := newTestServer(t, clf.Model, Config{ModelID: "testdata/tiny-bert"})
	srv := httptest.NewServer(s.Handler()) // 127.0.0.1
	t.Cleanup(srv.Close)

	text := "A gorgeous, witty, seductive movie."
	type score struct {
		Label string  `json:"label"`
		Score float64 `json:"score"`
	}
	type word struct {
		Text  string  `json:"text"`
		Score float64 `json:"score"`
	}
	type pageState struct {
		Scores       []score   `json:"scores"`
		Words        []word    `json:"words"`
		Attributions []float64 `json:"attributions"`
		Tokens       []string  `json:"tokens"`
		Heatmap      string    `json:"heatmap"`
		Explained    string    `json:"explained"`
		Error        string    `json:"error"`
	}
	const collect = `({
		scores: [...document.querySelectorAll("#scores .score")].map(e => ({label: e.dataset.label, score: Number(e.dataset.score)})),
		words: [...document.querySelectorAll("#heatmap .word")].map(e => ({text: e.textContent, score: Number(e.dataset.score)})),
		attributions: [...document.querySelectorAll("#tokens mark")].map(e => Number(e.dataset.attribution)),
		tokens: [...document.querySelectorAll("#tokens mark")].map(e => e.textContent),
		heatmap: document.getElementById("heatmap").textContent,
		explained: document.getElementById("explained").textContent,
		error: document.getElementById("error").textContent,
	})`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		chromedp.SendKeys(chromedp.ID("text"), text),
		chromedp.Click(chromedp.ID("run")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="done"]`)),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](collect))
	if err != nil {
		t.Fatal(err)
	}
	desktop, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}

	var predicted []prediction
	postJSON(t, srv.URL+"/predict", `{"inputs": `+quote(text)+`, "truncate": true}`, &predicted)
	var explained textclf.Explanation
	postJSON(t, srv.URL+"/explain", `{"inputs": `+quote(text)+`, "truncate": true, "steps": 50}`, &explained)

	if len(page.Scores) != len(predicted) || len(predicted) != 3 {
		t.Fatalf("page shows %d scores, /predict answers %d", len(page.Scores), len(predicted))
	}
	for i, p := range predicted {
		if page.Scores[i].Label != p.Label || float32(page.Scores[i].Score) != p.Score {
			t.Fatalf("score %d: page %+v, /predict %+v", i, page.Scores[i], p)
		}
	}
	if page.Heatmap != text {
		t.Fatalf("heatmap text %q, want the text %q", page.Heatmap, text)
	}
	if len(page.Words) != len(explained.Words) || len(page.Words) < 5 {
		t.Fatalf("page shows %d words, /explain answers %d", len(page.Words), len(explained.Words))
	}
	for i, w := range explained.Words {
		if page.Words[i].Text != w.Word || float32(page.Words[i].Score) != w.Score {
			t.Fatalf("word %d: page %+v, /explain %+v", i, page.Words[i], w)
		}
	}
	if strings.Join(page.Tokens, " ") != strings.Join(explained.Tokens, " ") {
		t.Fatalf("tokens: page %q, /explain %q", page.Tokens, explained.Tokens)
	}
	for i, a := range explained.Attributions {
		if float32(page.Attributions[i]) != a {
			t.Fatalf("attribution %d: page %g, /explain %g", i, page.Attributions[i], a)
		}
	}
	if !strings.HasPrefix(page.Explained, explained.Label+" (") || math.IsNaN(float64(explained.Delta)) {
		t.Fatalf("explained %q, /explain's label %s", page.Explained, explained.Label)
	}

	// A phone-sized window: an example button runs it, and the page fits.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		chromedp.Click(chromedp.CSS("#examples button:nth-child(2)")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="done"]`)),
	); err != nil {
		t.Fatalf("phone-sized window: %v", err)
	}
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#heatmap .word").length`))
	if err != nil {
		t.Fatal(err)
	}
	phone, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !fits || shown == 0 {
		t.Fatalf("phone-sized window: fits %v, %d words shown", fits, shown)
	}

	// /docs renders each operation of /openapi.json, and its form sends
	// the example of POST /explain.
	spec, err := s.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, item := range spec["paths"].(map[string]any) {
		ops += len(item.(map[string]any))
	}
	const explainOp = `details[data-route="POST /explain"]`
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1100, 900),
		chromedp.Navigate(srv.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)),
		chromedp.Click(chromedp.CSS(explainOp+" summary")),
		chromedp.Click(chromedp.CSS(explainOp+" button.send")),
		chromedp.WaitVisible(chromedp.CSS(explainOp+" pre.response")),
	); err != nil {
		t.Fatalf("/docs: %v", err)
	}
	rendered, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details.op").length`))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(explainOp+" pre.response")))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if rendered != ops || ops < 12 || !strings.Contains(answer, `"attributions"`) {
		t.Fatalf("/docs shows %d operations of %d; POST /explain's example answered %.200q", rendered, ops, answer)
	}

	if dir := os.Getenv("TEXTCLF_SCREENSHOTS"); dir != "" {
		for name, png := range map[string][]byte{"page.png": desktop, "page-phone.png": phone, "docs.png": docs} {
			if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
