import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GoFloat, GoMap, GoStruct, partialOutput, renderTemplate, TemplateError, type GoValue } from './index.js';

const labels = new GoMap('map[string]string', new Map([['app', 'web']]), '');
const meta = (name: string) =>
  new GoStruct(
    'v1.ObjectMeta',
    new Map<string, GoValue>([
      ['Name', name],
      ['Labels', labels],
    ]),
  );
const pool = (name: string, cidr: string, blockSize: number) =>
  new GoStruct(
    'v3.IPPool',
    new Map<string, GoValue>([
      ['ObjectMeta', meta(name)],
      [
        'Spec',
        new GoStruct(
          'v3.IPPoolSpec',
          new Map<string, GoValue>([
            ['CIDR', cidr],
            ['BlockSize', blockSize],
            ['Disabled', false],
          ]),
        ),
      ],
    ]),
    ['ObjectMeta'],
  );
const list = new GoStruct(
  '*v3.IPPoolList',
  new Map<string, GoValue>([['Items', [pool('a', '10.0.0.0/16', 26), pool('b', '10.1.0.0/16', 24)]]]),
);
const data: GoValue = [list];
const run = (src: string, d: GoValue = data): string => renderTemplate('get', src, d);
const fails = (src: string, message: string, d: GoValue = data) =>
  assert.throws(
    () => run(src, d),
    (e: Error) => e instanceof TemplateError && e.message === message,
  );

describe('Go text/template', () => {
  test('fields by Go name, promoted fields, nested range, "\\n" literals', () => {
    assert.equal(
      run('{{range .}}{{range .Items}}{{.ObjectMeta.Name}} {{.Spec.CIDR}} {{.Name}}{{"\\n"}}{{end}}{{end}}'),
      'a 10.0.0.0/16 a\nb 10.1.0.0/16 b\n',
    );
  });

  test('len, index, pipelines and printf', () => {
    assert.equal(run('{{range .}}{{len .Items}}{{end}}'), '2');
    assert.equal(run('{{(index . 0).Items | len | printf "%d pools"}}'), '2 pools');
    assert.equal(run('{{with index . 0}}{{(index .Items 1).Spec.CIDR}}{{end}}'), '10.1.0.0/16');
    assert.equal(
      run(
        '{{range .}}{{range .Items}}{{printf "%-4s|%3d|%q|%v\\n" .Name .Spec.BlockSize .Spec.CIDR .Spec.Disabled}}{{end}}{{end}}',
      ),
      'a   | 26|"10.0.0.0/16"|false\nb   | 24|"10.1.0.0/16"|false\n',
    );
    assert.equal(run('{{printf "%d %s"  1}}'), '1 %!s(MISSING)');
    assert.equal(run('{{printf "%d" "x"}}'), '%!d(string=x)');
    assert.equal(run('{{printf "%5.2f|%v|%v" 3.14159 1.5 1e6}}'), ' 3.14|1.5|1e+06');
  });

  test('if / else if / else, with, and comparisons', () => {
    const src =
      '{{range .}}{{range .Items}}{{if eq .Spec.BlockSize 26}}26{{else if gt .Spec.BlockSize 25}}big{{else}}small{{end}} {{end}}{{end}}';
    assert.equal(run(src), '26 small ');
    assert.equal(run('{{with (index . 0).Items}}{{len .}}{{else}}none{{end}}'), '2');
    assert.equal(run('{{with .}}x{{else}}empty{{end}}', []), 'empty');
    assert.equal(
      run('{{and 1 0}} {{or 0 "x"}} {{not true}} {{ne 1 2}} {{le "a" "b"}} {{eq "x" "y" "x"}}'),
      '0 x false true true true',
    );
  });

  test('range with variables, else, break and continue; variable scope and assignment', () => {
    assert.equal(run('{{range $i, $p := (index . 0).Items}}{{$i}}:{{$p.Name}} {{end}}'), '0:a 1:b ');
    assert.equal(run('{{range .}}x{{else}}no results{{end}}', []), 'no results');
    assert.equal(
      run('{{range (index . 0).Items}}{{if eq .Name "a"}}{{continue}}{{end}}{{.Name}}{{break}}{{end}}'),
      'b',
    );
    assert.equal(run('{{$n := 0}}{{range (index . 0).Items}}{{$n = .Spec.BlockSize}}{{end}}{{$n}}'), '24');
    assert.equal(run('{{range $k, $v := (index (index . 0).Items 0).Labels}}{{$k}}={{$v}}{{end}}'), 'app=web');
    assert.equal(run('{{range $ }}{{len .Items}}{{end}}'), '2');
  });

  test('missing map keys print <no value> (index gives the zero value); maps, slices and floats print as %v', () => {
    const p = '(index (index . 0).Items 0)';
    assert.equal(run(`{{${p}.Labels.app}}|{{${p}.Labels.nope}}|{{index ${p}.Labels "nope"}}|`), 'web|<no value>||');
    assert.equal(run(`{{${p}.Labels}}`), 'map[app:web]');
    assert.equal(run('{{.}}', [1, 'a', new GoFloat(0.5), null]), '[1 a 0.5 <nil>]');
    assert.equal(run('{{print 1 2 "a" 3}} {{println "x" 1}}'), '1 2a3 x 1\n');
  });

  test('trim markers and comments', () => {
    assert.equal(run('{{- range . -}}\n   {{- range .Items }}\n{{ .Name }}{{ end }}\n{{ end -}}  \n'), '\na\nb\n');
    assert.equal(run('a  {{- /* a comment */ -}}  b{{/* another */}}c'), 'abc');
  });

  test('a parse error names the template position', () => {
    fails('{{range .}}\n  {{.Name', 'template: get:2:3: unclosed action');
    fails('{{range .}}\n  {{.Name}', 'template: get:2:10: unexpected "}" in operand');
    fails('hello {{if}}', 'template: get:1:11: missing value for if');
    fails('{{nothing 1}}', 'template: get:1:3: function "nothing" not defined');
    fails('{{range .}}{{end}}{{end}}', 'template: get:1:21: unexpected {{end}}');
    fails('{{if .}}x', 'template: get:1:10: unexpected EOF: {{if}} at get:1:3 has no {{end}}');
    fails('{{break}}', 'template: get:1:3: {{break}} outside {{range}}');
    fails('{{"abc}}', 'template: get:1:3: unterminated quoted string');
    fails('{{.A # }}', 'template: get:1:6: unexpected "#" in operand');
    fails('{{.A \u00a7 }}', 'template: get:1:6: unrecognized character in action: U+00A7');
  });

  test("execution errors are Go's, with what was printed before them", () => {
    const src = '{{range .}}{{range .Items}}{{.Name}} {{.Spec.Cidr}}{{end}}{{end}}';
    let err: unknown;
    try {
      run(src);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TemplateError);
    assert.equal(
      err.message,
      'template: get:1:40: executing "get" at <.Spec.Cidr>: can\'t evaluate field Cidr in type v3.IPPoolSpec',
    );
    assert.equal(partialOutput(err), 'a ');
    fails(
      '{{index (index . 0).Items 5}}',
      'template: get:1:3: executing "get" at <index (index . 0).Items 5>: error calling index: index out of range: 5',
    );
    fails('{{len 3}}', 'template: get:1:3: executing "get" at <len 3>: error calling len: len of type int');
    fails('{{$x}}', 'template: get:1:3: executing "get" at <$x>: undefined variable: $x');
    fails('{{.Name 1}}', 'template: get:1:3: executing "get" at <.Name 1>: can\'t give argument to non-function Name');
  });
});
