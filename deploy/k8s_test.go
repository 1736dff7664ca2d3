package deploy

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The few Kubernetes fields the chart tests read, in the API's spelling.

type object struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   metadata          `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`       // Secret, ConfigMap
	StringData map[string]string `yaml:"stringData"` // Secret
	Spec       yaml.Node         `yaml:"spec"`
}

type metadata struct {
	Name        string            `yaml:"name"`
	Annotations map[string]string `yaml:"annotations"`
}

type deploymentSpec struct {
	Template struct {
		Metadata metadata `yaml:"metadata"`
		Spec     podSpec  `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	SecurityContext map[string]any `yaml:"securityContext"`
	InitContainers  []container    `yaml:"initContainers"`
	Containers      []container    `yaml:"containers"`
	Volumes         []volume       `yaml:"volumes"`
}

type container struct {
	Name            string         `yaml:"name"`
	Image           string         `yaml:"image"`
	Command         []string       `yaml:"command"`
	Args            []string       `yaml:"args"`
	Env             []envVar       `yaml:"env"`
	VolumeMounts    []volumeMount  `yaml:"volumeMounts"`
	Resources       resources      `yaml:"resources"`
	SecurityContext map[string]any `yaml:"securityContext"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *secretKeyRef `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type secretKeyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly"`
}

type resources struct {
	Limits   map[string]string `yaml:"limits"`
	Requests map[string]string `yaml:"requests"`
}

type volume struct {
	Name   string `yaml:"name"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
		Items      []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"secret"`
	EmptyDir              map[string]any `yaml:"emptyDir"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
}

// manifest is what `helm template` rendered.
type manifest struct {
	raw     string
	objects []object
}

func parseManifest(t *testing.T, raw string) *manifest {
	t.Helper()
	m := &manifest{raw: raw}
	dec := yaml.NewDecoder(strings.NewReader(raw))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered manifest: %v", err)
		}
		if o.Kind != "" {
			m.objects = append(m.objects, o)
		}
	}
	return m
}

// find returns the object of that kind and name, or nil.
func (m *manifest) find(kind, name string) *object {
	for i := range m.objects {
		if o := &m.objects[i]; o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

func (m *manifest) ofKind(kind string) []*object {
	var out []*object
	for i := range m.objects {
		if m.objects[i].Kind == kind {
			out = append(out, &m.objects[i])
		}
	}
	return out
}

// deployment returns the only Deployment's pod template.
func (m *manifest) deployment(t *testing.T) (metadata, podSpec) {
	t.Helper()
	ds := m.ofKind("Deployment")
	if len(ds) != 1 {
		t.Fatalf("%d Deployments rendered, want 1", len(ds))
	}
	var spec deploymentSpec
	if err := ds[0].Spec.Decode(&spec); err != nil {
		t.Fatalf("Deployment spec: %v", err)
	}
	return spec.Template.Metadata, spec.Template.Spec
}

// secretValue decodes one key of a Secret's data.
func secretValue(t *testing.T, s *object, key string) string {
	t.Helper()
	enc, ok := s.Data[key]
	if !ok {
		t.Fatalf("Secret %s has no key %q (keys: %v)", s.Metadata.Name, key, keys(s.Data))
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("Secret %s key %s: %v", s.Metadata.Name, key, err)
	}
	return string(b)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (p podSpec) initContainer(name string) *container {
	for i := range p.InitContainers {
		if p.InitContainers[i].Name == name {
			return &p.InitContainers[i]
		}
	}
	return nil
}

func (p podSpec) volume(name string) *volume {
	for i := range p.Volumes {
		if p.Volumes[i].Name == name {
			return &p.Volumes[i]
		}
	}
	return nil
}

func (c *container) env(name string) *envVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func (c *container) mount(name string) *volumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

// secretRef returns the Secret and key an env var reads, or "", "".
func (e *envVar) secretRef() (name, key string) {
	if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		return "", ""
	}
	return e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key
}
