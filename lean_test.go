package textclf_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Importing textclf (to classify a string, or train) links no plotting,
// fonts, LaTeX, PDF or terminal progress bar: those belong to the command
// line and to the packages plot and progress.
func TestRootPackageIsLean(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/textclf/textclf").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	heavy := regexp.MustCompile(`gonum|font|latex|pdf|progressbar|svgo|freetype|/gg$|x/image|x/term|colorstring`)
	deps := strings.Fields(string(out))
	if len(deps) < 20 || !strings.Contains(string(out), "github.com/textclf/textclf/train\n") {
		t.Fatalf("go list -deps listed %d packages, without train:\n%s", len(deps), out)
	}
	for _, d := range deps {
		if heavy.MatchString(d) {
			t.Errorf("github.com/textclf/textclf depends on %s", d)
		}
	}
}
