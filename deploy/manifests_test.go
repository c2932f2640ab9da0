package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// decode reads a manifest strictly into v: a field the API type lacks is
// an error, as kubectl's server-side field validation makes it.
func decode(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// arg returns the value after flag in args, or "".
func arg(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

func TestDeployment(t *testing.T) {
	var d appsv1.Deployment
	decode(t, "deployment.yaml", &d)
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Name != "textclf" {
		t.Fatalf("%s %s %q, want apps/v1 Deployment textclf", d.APIVersion, d.Kind, d.Name)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template's labels %v", k, v, d.Spec.Template.Labels)
		}
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Errorf("container args %v, want textclf serve", c.Args)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if addr := arg(c.Args, "--addr"); !strings.HasSuffix(addr, ":8080") || ports["http"] != 8080 {
		t.Errorf("--addr %q and port http %d, want :8080 and 8080", addr, ports["http"])
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/health"}, {"liveness", c.LivenessProbe, "/v2/health/live"}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || ports[p.probe.HTTPGet.Port.String()] == 0 {
			t.Errorf("%s probe GET %s on port %s, want %s on a container port", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		t.Errorf("resources %+v: want CPU and memory requests (the HPA's CPU target needs them) and a memory limit", c.Resources)
	}
	if threads := arg(c.Args, "--threads"); threads != req.Cpu().String() {
		t.Errorf("--threads %q, want the CPU request %s", threads, req.Cpu())
	}
	shutdown, err := time.ParseDuration(arg(c.Args, "--shutdown-timeout"))
	if err != nil || pod.TerminationGracePeriodSeconds == nil || time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %v, --shutdown-timeout %v (%v): the grace period must outlast the drain", pod.TerminationGracePeriodSeconds, shutdown, err)
	}
	// The init container downloads the model the server reads offline,
	// both through the same HF cache in the same volume.
	if len(pod.InitContainers) != 1 || len(pod.InitContainers[0].Args) < 2 || pod.InitContainers[0].Args[0] != "download" {
		t.Fatalf("init containers %v, want one running textclf download", pod.InitContainers)
	}
	ic := pod.InitContainers[0]
	if ic.Args[1] != arg(c.Args, "--model") {
		t.Errorf("download %s but serve --model %s", ic.Args[1], arg(c.Args, "--model"))
	}
	env := func(c corev1.Container) map[string]string {
		m := map[string]string{}
		for _, e := range c.Env {
			m[e.Name] = e.Value
		}
		return m
	}
	if env(ic)["HF_HOME"] == "" || env(ic)["HF_HOME"] != env(c)["HF_HOME"] || env(c)["HF_HUB_OFFLINE"] != "1" {
		t.Errorf("HF_HOME %q (download) and %q (serve), HF_HUB_OFFLINE %q: want one cache, read offline", env(ic)["HF_HOME"], env(c)["HF_HOME"], env(c)["HF_HUB_OFFLINE"])
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	for _, ct := range []corev1.Container{ic, c} {
		for _, m := range ct.VolumeMounts {
			if !volumes[m.Name] || !strings.HasPrefix(env(ct)["HF_HOME"], m.MountPath) {
				t.Errorf("%s mounts %s at %s: want a volume of the pod holding HF_HOME %s", ct.Name, m.Name, m.MountPath, env(ct)["HF_HOME"])
			}
		}
	}
}

func TestService(t *testing.T) {
	var d appsv1.Deployment
	decode(t, "deployment.yaml", &d)
	var s corev1.Service
	decode(t, "service.yaml", &s)
	for k, v := range s.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("service selector %s=%s matches no pod label", k, v)
		}
	}
	for _, p := range s.Spec.Ports {
		found := false
		for _, cp := range d.Spec.Template.Spec.Containers[0].Ports {
			found = found || cp.Name == p.TargetPort.String()
		}
		if !found {
			t.Errorf("service port %s targets %s, which the container does not name", p.Name, p.TargetPort.String())
		}
	}
}

func TestHorizontalPodAutoscaler(t *testing.T) {
	var h autoscalingv2.HorizontalPodAutoscaler
	decode(t, "hpa.yaml", &h)
	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "textclf" {
		t.Errorf("scale target %+v, want the textclf Deployment", ref)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		t.Errorf("replicas %v to %d", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if len(h.Spec.Metrics) != 1 {
		t.Fatalf("%d metrics, want CPU alone", len(h.Spec.Metrics))
	}
	m := h.Spec.Metrics[0]
	if m.Type != autoscalingv2.ResourceMetricSourceType || m.Resource == nil || m.Resource.Name != corev1.ResourceCPU ||
		m.Resource.Target.Type != autoscalingv2.UtilizationMetricType || m.Resource.Target.AverageUtilization == nil ||
		*m.Resource.Target.AverageUtilization <= 0 || *m.Resource.Target.AverageUtilization > 100 {
		t.Errorf("metric %+v, want CPU average utilization between 1 and 100 %%", m)
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	decode(t, "kustomization.yaml", &k)
	files, _ := filepath.Glob("kubernetes/*.yaml")
	var want []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			want = append(want, b)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(k.Resources))
	if k.Kind != "Kustomization" || !slices.Equal(got, want) {
		t.Errorf("kustomization %s lists %v, want every manifest %v", k.Kind, got, want)
	}
}
