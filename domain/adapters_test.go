package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
)

func TestParseArgsAccepts(t *testing.T) {
	t.Parallel()
	defaults := domain.MockArgs{Steps: 10, IntervalMS: 100, OutputLinesPerStep: 1, FailAtStep: 0}
	for _, tc := range []struct {
		name    string
		adapter domain.Adapter
		args    string
		want    any
	}{
		{"mock, nil args take the defaults", domain.AdapterMock, "", &defaults},
		{"mock, blank args take the defaults", domain.AdapterMock, " \n\t", &defaults},
		{"mock, null takes the defaults", domain.AdapterMock, "null", &defaults},
		{"mock, an empty object takes the defaults", domain.AdapterMock, "{}", &defaults},
		{"mock, a null field keeps its default", domain.AdapterMock, `{"steps":null}`, &defaults},
		{"mock, fields override the defaults", domain.AdapterMock, `{"steps":3,"interval_ms":0,"output_lines_per_step":0,"fail_at_step":3}`,
			&domain.MockArgs{Steps: 3, IntervalMS: 0, OutputLinesPerStep: 0, FailAtStep: 3}},
		{"mock, the upper bounds", domain.AdapterMock,
			fmt.Sprintf(`{"steps":%d,"interval_ms":%d,"output_lines_per_step":%d,"fail_at_step":%d}`, domain.MaxMockSteps, domain.MaxMockInterval, domain.MaxMockLines, domain.MaxMockSteps),
			&domain.MockArgs{Steps: domain.MaxMockSteps, IntervalMS: domain.MaxMockInterval, OutputLinesPerStep: domain.MaxMockLines, FailAtStep: domain.MaxMockSteps}},
		{"shell, argv only", domain.AdapterShell, `{"command":["make","test"]}`,
			&domain.ShellArgs{Command: []string{"make", "test"}}},
		{"shell, argv, cwd and env", domain.AdapterShell, `{"command":["sh","-c","echo $A"],"cwd":"src/app","env":{"A":"1","_b9":""}}`,
			&domain.ShellArgs{Command: []string{"sh", "-c", "echo $A"}, Cwd: "src/app", Env: map[string]domain.SecretString{"A": domain.Lit("1"), "_b9": domain.Lit("")}}},
		{"shell, cwd is kept as written", domain.AdapterShell, `{"command":["ls"],"cwd":"./src/../src//app/"}`,
			&domain.ShellArgs{Command: []string{"ls"}, Cwd: "./src/../src//app/"}},
		{"shell, a PATH of system directories", domain.AdapterShell, `{"command":["ls"],"env":{"PATH":"/usr/local/bin:/usr/bin:/bin:/opt/tool/bin/"}}`,
			&domain.ShellArgs{Command: []string{"ls"}, Env: map[string]domain.SecretString{"PATH": domain.Lit("/usr/local/bin:/usr/bin:/bin:/opt/tool/bin/")}}},
		{"shell, interpreters' variables and look-alike names", domain.AdapterShell,
			`{"command":["ls"],"env":{"PYTHONPATH":"src","NODE_OPTIONS":"--max-old-space-size=512","PERL5LIB":"lib","TMPDIR":"/tmp","LD":"gold","MY_LD_PRELOAD":"x","ld_preload":"x","Path":"."}}`,
			&domain.ShellArgs{Command: []string{"ls"}, Env: map[string]domain.SecretString{"PYTHONPATH": domain.Lit("src"), "NODE_OPTIONS": domain.Lit("--max-old-space-size=512"), "PERL5LIB": domain.Lit("lib"), "TMPDIR": domain.Lit("/tmp"), "LD": domain.Lit("gold"), "MY_LD_PRELOAD": domain.Lit("x"), "ld_preload": domain.Lit("x"), "Path": domain.Lit(".")}}},
		{"shell, empty arguments after the program", domain.AdapterShell, `{"command":["echo",""]}`,
			&domain.ShellArgs{Command: []string{"echo", ""}}},
		{"shell, exactly the argv limit", domain.AdapterShell, argvJSON(domain.MaxArgvItems, "a"),
			&domain.ShellArgs{Command: repeat(domain.MaxArgvItems, "a")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var raw json.RawMessage
			if tc.args != "" {
				raw = json.RawMessage(tc.args)
			}
			got, err := domain.ParseArgs(tc.adapter, raw)
			if err != nil {
				t.Fatalf("ParseArgs(%s, %s): %v", tc.adapter, tc.args, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseArgs(%s, %s) = %#v, want %#v", tc.adapter, tc.args, got, tc.want)
			}
		})
	}
}

func TestParseArgsRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		adapter domain.Adapter
		args    string
		// field is the ValidationError's Field; reason, when set, must
		// appear in its Reason.
		field, reason string
	}{
		// Adapters.
		{name: "unknown adapter", adapter: "ssh", args: `{}`, field: "adapter", reason: `"ssh" is unknown`},
		{name: "empty adapter", adapter: "", args: `{}`, field: "adapter", reason: "is unknown"},
		{name: "adapter names are case-sensitive", adapter: "Mock", args: `{}`, field: "adapter", reason: "is unknown"},

		// Shape of the JSON.
		{name: "huge args", adapter: domain.AdapterShell, args: `{"command":["echo","` + strings.Repeat("x", domain.MaxArgsBytes) + `"]}`,
			field: "args", reason: fmt.Sprintf("the limit is %d", domain.MaxArgsBytes)},
		{name: "huge args are rejected before the adapter is looked at", adapter: "nope", args: strings.Repeat(" ", domain.MaxArgsBytes+1),
			field: "args", reason: "the limit is"},
		{name: "invalid JSON", adapter: domain.AdapterMock, args: `{"steps":`, field: "args"},
		{name: "two objects", adapter: domain.AdapterMock, args: `{} {}`, field: "args", reason: "exactly one JSON object"},
		{name: "an array", adapter: domain.AdapterMock, args: `[]`, field: "args", reason: "must be an object"},
		{name: "a string", adapter: domain.AdapterShell, args: `"ls"`, field: "args", reason: "must be an object"},

		// Unknown fields and wrong types name the field.
		{name: "mock, unknown field", adapter: domain.AdapterMock, args: `{"steps":1,"stepz":2}`, field: "args.stepz", reason: "not a known argument"},
		{name: "shell, unknown field", adapter: domain.AdapterShell, args: `{"command":["ls"],"shell":true}`, field: "args.shell", reason: "not a known argument"},
		{name: "shell, a docker field", adapter: domain.AdapterShell, args: `{"command":["ls"],"image":"alpine"}`, field: "args.image"},
		{name: "mock, steps is a string", adapter: domain.AdapterMock, args: `{"steps":"ten"}`, field: "args.steps", reason: "must be an integer"},
		{name: "mock, steps is a fraction", adapter: domain.AdapterMock, args: `{"steps":1.5}`, field: "args.steps", reason: "integer"},
		{name: "mock, steps in exponent form", adapter: domain.AdapterMock, args: `{"steps":1e1}`, field: "args.steps"},
		{name: "mock, steps overflows", adapter: domain.AdapterMock, args: `{"steps":99999999999999999999}`, field: "args.steps"},
		{name: "mock, fail_at_step is a bool", adapter: domain.AdapterMock, args: `{"fail_at_step":true}`, field: "args.fail_at_step"},
		{name: "shell, command is a string", adapter: domain.AdapterShell, args: `{"command":"make test"}`, field: "args.command", reason: "must be an array"},
		{name: "shell, an argv item is a number", adapter: domain.AdapterShell, args: `{"command":["sleep",1]}`, field: "args.command", reason: "must be a string"},
		{name: "shell, cwd is a number", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":1}`, field: "args.cwd", reason: "must be a string"},
		{name: "shell, env is an array", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":["A=1"]}`, field: "args.env", reason: "must be an object"},
		{name: "shell, an env value is a number", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"A":1}}`, field: "args.env.A", reason: "must be a string or a secret reference"},
		{name: "field names are case-sensitive", adapter: domain.AdapterShell, args: `{"command":["ls"],"Command":["rm","-rf","/"]}`, field: "args.Command"},

		// Mock bounds.
		{name: "mock, zero steps", adapter: domain.AdapterMock, args: `{"steps":0}`, field: "args.steps"},
		{name: "mock, too many steps", adapter: domain.AdapterMock, args: fmt.Sprintf(`{"steps":%d}`, domain.MaxMockSteps+1), field: "args.steps"},
		{name: "mock, negative interval", adapter: domain.AdapterMock, args: `{"interval_ms":-1}`, field: "args.interval_ms"},
		{name: "mock, interval too long", adapter: domain.AdapterMock, args: fmt.Sprintf(`{"interval_ms":%d}`, domain.MaxMockInterval+1), field: "args.interval_ms"},
		{name: "mock, negative lines", adapter: domain.AdapterMock, args: `{"output_lines_per_step":-1}`, field: "args.output_lines_per_step"},
		{name: "mock, too many lines", adapter: domain.AdapterMock, args: fmt.Sprintf(`{"output_lines_per_step":%d}`, domain.MaxMockLines+1), field: "args.output_lines_per_step"},
		{name: "mock, fail_at_step after the last step", adapter: domain.AdapterMock, args: `{"steps":3,"fail_at_step":4}`, field: "args.fail_at_step", reason: "between 0"},
		{name: "mock, fail_at_step after the default steps", adapter: domain.AdapterMock, args: `{"fail_at_step":11}`, field: "args.fail_at_step"},
		{name: "mock, negative fail_at_step", adapter: domain.AdapterMock, args: `{"fail_at_step":-1}`, field: "args.fail_at_step"},
		{name: "mock, negative fail_attempts", adapter: domain.AdapterMock, args: `{"fail_attempts":-1}`, field: "args.fail_attempts"},
		{name: "mock, too many fail_attempts", adapter: domain.AdapterMock, args: `{"fail_attempts":101}`, field: "args.fail_attempts"},

		// Shell argv.
		{name: "shell, null args", adapter: domain.AdapterShell, args: `null`, field: "args.command", reason: "non-empty argv array"},
		{name: "shell, no command", adapter: domain.AdapterShell, args: `{}`, field: "args.command", reason: "non-empty argv array"},
		{name: "shell, empty command", adapter: domain.AdapterShell, args: `{"command":[]}`, field: "args.command", reason: "non-empty argv array"},
		{name: "shell, null command", adapter: domain.AdapterShell, args: `{"command":null}`, field: "args.command"},
		{name: "shell, empty program", adapter: domain.AdapterShell, args: `{"command":["","x"]}`, field: "args.command"},
		{name: "shell, too many argv items", adapter: domain.AdapterShell, args: argvJSON(domain.MaxArgvItems+1, "a"),
			field: "args.command", reason: fmt.Sprintf("has %d items; the limit is %d", domain.MaxArgvItems+1, domain.MaxArgvItems)},
		{name: "shell, NUL in the program", adapter: domain.AdapterShell, args: `{"command":["l\u0000s"]}`, field: "args.command[0]", reason: "without NUL"},
		{name: "shell, NUL in an argument", adapter: domain.AdapterShell, args: `{"command":["echo","ok","a\u0000b"]}`, field: "args.command[2]", reason: "without NUL"},
		{name: "shell, an argument too long", adapter: domain.AdapterShell, args: `{"command":["echo","` + strings.Repeat("x", domain.MaxArgBytes+1) + `"]}`,
			field: "args.command[1]", reason: fmt.Sprintf("at most %d bytes", domain.MaxArgBytes)},

		// Shell cwd: relative to the work directory, never out of it.
		{name: "shell, NUL in cwd", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"src\u0000x"}`, field: "args.cwd", reason: "without NUL"},
		{name: "shell, cwd too long", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"` + strings.Repeat("d", domain.MaxArgBytes+1) + `"}`, field: "args.cwd", reason: "at most"},
		{name: "shell, absolute cwd", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"/tmp"}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd is the root", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"/"}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd is the work directory by its sandbox path", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"/work/src"}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd is the data directory", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"/var/lib/axontask/.axontask"}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd is ..", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":".."}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd climbs to /etc", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"../../../../etc"}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd climbs out after going in", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"src/../../x"}`, field: "args.cwd", reason: cwdReason},
		{name: "shell, cwd climbs out with a trailing slash", adapter: domain.AdapterShell, args: `{"command":["ls"],"cwd":"./../"}`, field: "args.cwd", reason: cwdReason},

		// Shell env: variables that make the loader or a shell run code.
		{name: "shell, LD_PRELOAD", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"LD_PRELOAD":"/work/evil.so"}}`, field: "args.env.LD_PRELOAD", reason: `refused by the sandbox policy`},
		{name: "shell, LD_PRELOAD says what to do instead", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"LD_PRELOAD":"x"}}`, field: "args.env.LD_PRELOAD", reason: `set it inside the command, where it is seen, like ["sh", "-c", "LD_PRELOAD=… exec prog"]`},
		{name: "shell, LD_LIBRARY_PATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"LD_LIBRARY_PATH":"lib"}}`, field: "args.env.LD_LIBRARY_PATH", reason: "dynamic loader"},
		{name: "shell, any LD_ name", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"LD_SOMETHING_NEW":"1"}}`, field: "args.env.LD_SOMETHING_NEW", reason: "dynamic loader"},
		{name: "shell, DYLD_INSERT_LIBRARIES", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"DYLD_INSERT_LIBRARIES":"x.dylib"}}`, field: "args.env.DYLD_INSERT_LIBRARIES", reason: "macOS loader"},
		{name: "shell, an exported bash function", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"BASH_FUNC_ls":"() { rm -rf .; }"}}`, field: "args.env.BASH_FUNC_ls", reason: "functions"},
		{name: "shell, BASH_ENV", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"BASH_ENV":"evil.sh"}}`, field: "args.env.BASH_ENV", reason: "before every script"},
		{name: "shell, ENV", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"ENV":"evil.sh"}}`, field: "args.env.ENV"},
		{name: "shell, SHELLOPTS", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"SHELLOPTS":"xtrace"}}`, field: "args.env.SHELLOPTS"},
		{name: "shell, BASHOPTS", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"BASHOPTS":"extdebug"}}`, field: "args.env.BASHOPTS"},
		{name: "shell, PS4", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PS4":"$(id)"}}`, field: "args.env.PS4", reason: "command substitutions"},
		{name: "shell, PROMPT_COMMAND", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PROMPT_COMMAND":"id"}}`, field: "args.env.PROMPT_COMMAND"},
		{name: "shell, IFS", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"IFS":"/"}}`, field: "args.env.IFS"},
		{name: "shell, CDPATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"CDPATH":"/"}}`, field: "args.env.CDPATH"},
		{name: "shell, GLOBIGNORE", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"GLOBIGNORE":"*"}}`, field: "args.env.GLOBIGNORE"},
		{name: "shell, FPATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"FPATH":"fn"}}`, field: "args.env.FPATH"},
		{name: "shell, ZDOTDIR", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"ZDOTDIR":"."}}`, field: "args.env.ZDOTDIR"},
		{name: "shell, NULLCMD", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"NULLCMD":"id"}}`, field: "args.env.NULLCMD"},
		{name: "shell, READNULLCMD", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"READNULLCMD":"id"}}`, field: "args.env.READNULLCMD"},
		{name: "shell, GCONV_PATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"GCONV_PATH":"."}}`, field: "args.env.GCONV_PATH", reason: "shared libraries"},
		{name: "shell, GETCONF_DIR", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"GETCONF_DIR":"."}}`, field: "args.env.GETCONF_DIR"},
		{name: "shell, GLIBC_TUNABLES", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"GLIBC_TUNABLES":"glibc.malloc.check=3"}}`, field: "args.env.GLIBC_TUNABLES"},
		{name: "shell, LOCPATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"LOCPATH":"."}}`, field: "args.env.LOCPATH"},
		{name: "shell, NLSPATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"NLSPATH":"%N"}}`, field: "args.env.NLSPATH"},
		{name: "shell, a refused variable is named among allowed ones", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"A":"1","LD_AUDIT":"x","Z":"2"}}`, field: "args.env.LD_AUDIT"},

		// Shell env: a PATH lists only absolute directories tasks cannot write.
		{name: "shell, empty PATH", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":""}}`, field: "args.env.PATH", reason: "empty entry"},
		{name: "shell, PATH with a leading colon", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":":/usr/bin"}}`, field: "args.env.PATH", reason: "current directory"},
		{name: "shell, PATH with a trailing colon", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/bin:"}}`, field: "args.env.PATH", reason: "empty entry"},
		{name: "shell, PATH with a doubled colon", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/bin::/bin"}}`, field: "args.env.PATH", reason: "empty entry"},
		{name: "shell, PATH with .", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":".:/usr/bin"}}`, field: "args.env.PATH", reason: `relative entry "."`},
		{name: "shell, PATH with a relative entry", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/bin:bin"}}`, field: "args.env.PATH", reason: `relative entry "bin"`},
		{name: "shell, PATH with ..", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/bin/../../tmp"}}`, field: "args.env.PATH", reason: `"." or ".." component`},
		{name: "shell, PATH with /./", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/./bin"}}`, field: "args.env.PATH", reason: `"." or ".." component`},
		{name: "shell, PATH in /tmp", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/bin:/tmp"}}`, field: "args.env.PATH", reason: `"/tmp", in /tmp, where tasks can write`},
		{name: "shell, PATH under /tmp", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/tmp/bin"}}`, field: "args.env.PATH", reason: "in /tmp"},
		{name: "shell, PATH under /tmp, slashes doubled", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"//tmp//bin/"}}`, field: "args.env.PATH", reason: "in /tmp"},
		{name: "shell, PATH in /var/tmp", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/var/tmp/x"}}`, field: "args.env.PATH", reason: "in /var/tmp"},
		{name: "shell, PATH in /dev/shm", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/dev/shm"}}`, field: "args.env.PATH", reason: "in /dev/shm"},
		{name: "shell, PATH in the work directory", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/usr/bin:/work/node_modules/.bin"}}`, field: "args.env.PATH", reason: "in /work"},
		{name: "shell, PATH errors say what to do", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"PATH":"/work"}}`, field: "args.env.PATH", reason: `run a program of the work directory by its path, like ["./bin/tool"]`},

		// Shell env: names and sizes.
		{name: "shell, env name starts with a digit", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"1A":"x"}}`, field: "args.env", reason: `"1A"`},
		{name: "shell, env name with '='", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"A=B":"x"}}`, field: "args.env", reason: `"A=B"`},
		{name: "shell, empty env name", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"":"x"}}`, field: "args.env"},
		{name: "shell, env name with a dash", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"MY-VAR":"x"}}`, field: "args.env", reason: "[A-Za-z_][A-Za-z0-9_]*"},
		{name: "shell, NUL in an env value", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"TOKEN":"a\u0000"}}`, field: "args.env.TOKEN", reason: "without NUL"},
		{name: "shell, an env value too long", adapter: domain.AdapterShell, args: `{"command":["ls"],"env":{"BIG":"` + strings.Repeat("v", domain.MaxArgBytes+1) + `"}}`, field: "args.env.BIG"},
		{name: "shell, too many env vars", adapter: domain.AdapterShell, args: envJSON(domain.MaxEnvVars + 1), field: "args.env",
			reason: fmt.Sprintf("has %d variables; the limit is %d", domain.MaxEnvVars+1, domain.MaxEnvVars)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.ParseArgs(tc.adapter, json.RawMessage(tc.args))
			var verr *domain.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ParseArgs(%s, %.80s) = %v, want a *domain.ValidationError for %s", tc.adapter, tc.args, err, tc.field)
			}
			if verr.Field != tc.field {
				t.Errorf("ParseArgs(%s, %.80s) names field %q (%v), want %q", tc.adapter, tc.args, verr.Field, err, tc.field)
			}
			if !strings.Contains(verr.Reason, tc.reason) {
				t.Errorf("ParseArgs(%s, %.80s) says %q, want it to mention %q", tc.adapter, tc.args, verr.Reason, tc.reason)
			}
			if !strings.HasPrefix(err.Error(), verr.Field+" ") {
				t.Errorf("error %q does not start with its field %q", err, verr.Field)
			}
		})
	}
}

// cwdReason is what every refused args.cwd says.
const cwdReason = `is relative to the task's work directory (e.g. "src/app"); it cannot be absolute or leave it with ..`

// CleanCwd gives the executor the path to join to the work directory.
func TestCleanCwd(t *testing.T) {
	t.Parallel()
	for cwd, want := range map[string]string{
		"":                   ".",
		".":                  ".",
		"./":                 ".",
		"src":                "src",
		"src/app/":           "src/app",
		"./src//app":         "src/app",
		"src/../lib":         "lib",
		"a/b/../../c":        "c",
		"a/..":               ".",
		"...":                "...",
		"..foo/bar":          "..foo/bar",
		"~/x":                "~/x",
		`..\..\etc`:          `..\..\etc`, // one odd name on Linux, inside the work directory
		"work":               "work",
		"tmp/../work/../src": "src",
	} {
		got, err := domain.CleanCwd(cwd)
		if err != nil || got != want {
			t.Errorf("CleanCwd(%q) = %q, %v; want %q", cwd, got, err, want)
		}
	}
	for _, cwd := range []string{"/", "/work", "//x", "..", "../", "../x", "x/../..", "./x/../../y"} {
		_, err := domain.CleanCwd(cwd)
		var verr *domain.ValidationError
		if !errors.As(err, &verr) || verr.Field != "args.cwd" || verr.Reason != cwdReason {
			t.Errorf("CleanCwd(%q) = %v; want a *ValidationError naming args.cwd", cwd, err)
		}
	}
}

// TestParseArgsDefaultsAreValid: the defaults that an empty mock args
// object gets pass the adapter's own bounds, whatever else is given.
func TestParseArgsDefaultsAreValid(t *testing.T) {
	t.Parallel()
	for _, args := range []string{`{"interval_ms":5}`, `{"output_lines_per_step":7}`, `{"fail_at_step":10}`} {
		got, err := domain.ParseArgs(domain.AdapterMock, json.RawMessage(args))
		if err != nil {
			t.Fatalf("ParseArgs(mock, %s): %v", args, err)
		}
		if m := got.(*domain.MockArgs); m.Steps != 10 {
			t.Errorf("ParseArgs(mock, %s).Steps = %d, want the default 10", args, m.Steps)
		}
	}
}

func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// argvJSON returns shell args whose command has n items, each s.
func argvJSON(n int, s string) string {
	b, err := json.Marshal(map[string][]string{"command": repeat(n, s)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// envJSON returns shell args with n distinct, valid env variables.
func envJSON(n int) string {
	env := make(map[string]string, n)
	for i := range n {
		env[fmt.Sprintf("V%d", i)] = "x"
	}
	b, err := json.Marshal(map[string]any{"command": []string{"env"}, "env": env})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// FuzzParseArgs: adapter args are outside input (the body of start_task).
// ParseArgs never panics; every error is a *ValidationError naming the
// adapter or an args field; and args it accepts are valid and re-encode to
// JSON that parses to the same value.
func FuzzParseArgs(f *testing.F) {
	// The edge cases are in testdata/fuzz/FuzzParseArgs.
	f.Add("mock", []byte(`{"steps":3,"interval_ms":0,"output_lines_per_step":0,"fail_at_step":3}`))
	f.Add("shell", []byte(`{"command":["sh","-c","echo $A"],"cwd":"src/app","env":{"A":"1","_b9":""}}`))
	f.Fuzz(func(t *testing.T, adapter string, raw []byte) {
		a := domain.Adapter(adapter)
		got, err := domain.ParseArgs(a, raw)
		if err != nil {
			var verr *domain.ValidationError
			if !errors.As(err, &verr) || (verr.Field != "adapter" && verr.Field != "args" && !strings.HasPrefix(verr.Field, "args.")) {
				t.Fatalf("ParseArgs(%q, %q) = %v; want a *ValidationError naming adapter or args", adapter, raw, err)
			}
			return
		}
		switch v := got.(type) {
		case *domain.MockArgs:
			err = v.Validate()
		case *domain.ShellArgs:
			err = v.Validate()
		default:
			t.Fatalf("ParseArgs(%q, %q) = %T", adapter, raw, got)
		}
		if err != nil {
			t.Fatalf("ParseArgs(%q, %q) accepted args that do not validate: %v", adapter, raw, err)
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", got, err)
		}
		back, err := domain.ParseArgs(a, again)
		if err != nil {
			t.Fatalf("ParseArgs(%q, %q) = %#v, whose encoding %s is rejected: %v", adapter, raw, got, again, err)
		}
		if !reflect.DeepEqual(normalEnv(back), normalEnv(got)) {
			t.Fatalf("ParseArgs(%q, %q) = %#v, whose encoding %s parses to %#v", adapter, raw, got, again, back)
		}
	})
}

// normalEnv returns args with an empty shell env as nil: "env":{} and no
// env mean the same, and the encoding leaves an empty env out.
func normalEnv(args any) any {
	if s, ok := args.(*domain.ShellArgs); ok && len(s.Env) == 0 {
		c := *s
		c.Env = nil
		return &c
	}
	return args
}
