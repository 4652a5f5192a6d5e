import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runPlugin, type Env, type PluginInfo } from './dispatch.js';
import { CniError, type CniRequest, type PluginHandlers } from './types.js';

const ABOUT = 'Calico CNI plugin test';
const CONF = JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'calico' });
const ADD_ENV: Env = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/tc-none',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p',
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  json?: Record<string, any>;
  calls: CniRequest[];
}

const RESULT = {
  interfaces: [{ name: 'cali123' }, { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450, sandbox: '/x' }],
  ips: [
    { interface: 1, address: '10.0.0.5/32' },
    { interface: 1, address: 'fd00::5/128' },
  ],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
  dns: {},
};

async function run(
  env: Env,
  stdin: string | Error = CONF,
  handlers?: Partial<PluginHandlers>,
  info: Partial<PluginInfo> = {},
): Promise<Outcome> {
  const calls: CniRequest[] = [];
  let stdout = '';
  let stderr = '';
  let stdinRead = false;
  const h: PluginHandlers = {
    add: async (req) => {
      calls.push(req);
      return RESULT;
    },
    del: async (req) => {
      calls.push(req);
    },
    check: async (req) => {
      calls.push(req);
    },
    gc: async (req) => {
      calls.push(req);
    },
    status: async (req) => {
      calls.push(req);
    },
    ...handlers,
  };
  const code = await runPlugin(
    h,
    {
      env,
      readStdin: async () => {
        stdinRead = true;
        if (stdin instanceof Error) throw stdin;
        return stdin;
      },
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    },
    { about: ABOUT, ...info },
  );
  void stdinRead;
  const out: Outcome = { code, stdout, stderr, calls };
  if (stdout.trim()) {
    // Exactly one JSON document on stdout.
    out.json = JSON.parse(stdout);
  }
  return out;
}

function assertError(o: Outcome, code: number, msg: RegExp): void {
  assert.equal(o.code, 1, `exit code for ${o.stdout}`);
  assert.ok(o.json, 'an error document on stdout');
  assert.equal(o.json!.code, code, o.stdout);
  assert.equal(Number.isInteger(o.json!.code), true);
  assert.match(o.json!.msg, msg);
  assert.equal(o.calls.length, 0, 'handler must not run');
}

describe('skel: environment', () => {
  test('missing CNI_COMMAND prints the about text and versions on stderr, exit 0', async () => {
    const o = await run({});
    assert.equal(o.code, 0);
    assert.equal(o.stdout, '');
    assert.match(
      o.stderr,
      /^Calico CNI plugin test\nCNI protocol versions supported: 0\.1\.0, 0\.2\.0, 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0\n$/,
    );
  });

  test('every missing variable is named, code 4', async () => {
    const o = await run({ CNI_COMMAND: 'ADD' });
    assertError(o, 4, /^required env variables \[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH\] missing$/);
  });

  test('CNI_NETNS is not required for DEL', async () => {
    const o = await run({ ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_NETNS: undefined });
    assert.equal(o.code, 0, o.stdout);
    assert.equal(o.stdout, '');
    assert.equal(o.calls.length, 1);
    assert.equal(o.calls[0]!.netns, undefined);
  });

  for (const command of ['ADD', 'CHECK', 'DEL']) {
    test(`CNI_PATH is required for ${command}`, async () => {
      const o = await run({ ...ADD_ENV, CNI_COMMAND: command, CNI_PATH: '' });
      assertError(o, 4, /^required env variables \[CNI_PATH\] missing$/);
    });
  }

  test('DEL without container id and ifname names both', async () => {
    const o = await run({ CNI_COMMAND: 'DEL', CNI_PATH: '/x' });
    assertError(o, 4, /\[CNI_CONTAINERID,CNI_IFNAME\]/);
  });
});

describe('skel: stdin and identifiers, in order', () => {
  test('stdin read failure is code 5', async () => {
    assertError(await run(ADD_ENV, new Error('boom')), 5, /error reading from stdin: boom/);
  });
  test('undecodable stdin is code 6', async () => {
    assertError(await run(ADD_ENV, '{not json'), 6, /error unmarshall network config/);
  });
  test('stdin that is not an object is code 6', async () => {
    assertError(await run(ADD_ENV, '[1,2]'), 6, /error unmarshall network config/);
  });
  test('missing network name is code 7', async () => {
    assertError(await run(ADD_ENV, '{"cniVersion":"1.0.0"}'), 7, /^missing network name$/);
  });
  test('bad network name characters are code 7', async () => {
    assertError(
      await run(ADD_ENV, '{"cniVersion":"1.0.0","name":"-bad name"}'),
      7,
      /invalid characters found in network name/,
    );
  });
  test('the container id is checked with the environment, before stdin (skel v1.3.0)', async () => {
    assertError(await run({ ...ADD_ENV, CNI_CONTAINERID: '!bad' }, 'nope'), 4, /invalid characters in containerID/);
  });
  test('an invalid container id is reported before missing variables after it in the table', async () => {
    assertError(await run({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '!bad' }), 4, /invalid characters in containerID/);
    assertError(await run({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ok1', CNI_IFNAME: 'a/b' }), 4, /contains \/ or :/);
  });
  test('identifiers are not validated for commands that do not require them', async () => {
    const o = await run({ CNI_COMMAND: 'FROB', CNI_CONTAINERID: '!bad' });
    assertError(o, 4, /^unknown CNI_COMMAND: FROB$/);
  });
  test('bad container id characters are code 4', async () => {
    const o = await run({ ...ADD_ENV, CNI_CONTAINERID: '_abc/def' });
    assertError(o, 4, /^invalid characters in containerID$/);
    assert.equal(o.json!.details, '_abc/def');
  });
  test('container id is checked before the interface name', async () => {
    assertError(await run({ ...ADD_ENV, CNI_CONTAINERID: '-x', CNI_IFNAME: 'a/b' }), 4, /containerID/);
  });
  for (const [ifName, why] of [
    ['abcdefghijklmnop', /too long/],
    ['.', /\. or \.\./],
    ['..', /\. or \.\./],
    ['eth/0', /contains \/ or :/],
    ['eth:0', /contains \/ or :/],
    ['eth 0', /whitespace/],
    ['eth\t0', /whitespace/],
    ['eth\u00850', /whitespace/], // NEL: a space to Go's unicode.IsSpace, not to \s
  ] as const) {
    test(`interface name ${JSON.stringify(ifName)} is code 4`, async () => {
      assertError(await run({ ...ADD_ENV, CNI_IFNAME: ifName }), 4, why);
    });
  }
  test('U+FEFF is no space to Go: accepted (as skel) if short enough', async () => {
    const o = await run({ ...ADD_ENV, CNI_IFNAME: 'eth\ufeff0' });
    assert.equal(o.code, 0, o.stdout);
  });
  test('a 15-character interface name is accepted', async () => {
    const o = await run({ ...ADD_ENV, CNI_IFNAME: 'abcdefghijklmno' });
    assert.equal(o.code, 0, o.stdout);
  });
});

describe('skel: versions and commands', () => {
  test('VERSION lists every supported version and does not read stdin', async () => {
    const o = await run({ CNI_COMMAND: 'VERSION' }, new Error('stdin must not be read'));
    assert.equal(o.code, 0);
    assert.deepEqual(o.json, {
      cniVersion: '1.1.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    // Byte for byte as libcni's encoder: compact, one newline.
    assert.equal(
      o.stdout,
      '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n',
    );
  });

  test('an unsupported config version is code 1 naming both sides', async () => {
    const o = await run(ADD_ENV, '{"cniVersion":"0.5.0","name":"n"}');
    assertError(o, 1, /^incompatible CNI versions$/);
    assert.match(o.json!.details, /config is "0\.5\.0", plugin supports \["0\.1\.0" .*"1\.1\.0"\]/);
  });

  test('missing cniVersion counts as 0.1.0: result in the 0.1.0 shape', async () => {
    const o = await run(ADD_ENV, '{"name":"n","type":"calico"}');
    assert.equal(o.code, 0, o.stdout);
    assert.deepEqual(o.json, {
      cniVersion: '0.1.0',
      ip4: { ip: '10.0.0.5/32', routes: [{ dst: '0.0.0.0/0' }] },
      ip6: { ip: 'fd00::5/128', routes: [{ dst: '::/0' }] },
      dns: {},
    });
  });

  test("missing cniVersion: a plugin's own result version (Calico's 0.2.0) in the 0.1/0.2 shape", async () => {
    const o = await run(ADD_ENV, '{"name":"n","type":"calico"}', undefined, { unversionedResult: '0.2.0' });
    assert.equal(o.code, 0, o.stdout);
    assert.equal(o.json!.cniVersion, '0.2.0');
    assert.deepEqual(o.json!.ip4, { ip: '10.0.0.5/32', routes: [{ dst: '0.0.0.0/0' }] });
    // A declared version is never replaced.
    const declared = await run(ADD_ENV, '{"cniVersion":"0.1.0","name":"n"}', undefined, { unversionedResult: '0.2.0' });
    assert.equal(declared.json!.cniVersion, '0.1.0');
  });

  test('a version error comes after the identifier checks', async () => {
    assertError(await run({ ...ADD_ENV, CNI_IFNAME: 'a:b' }, '{"cniVersion":"9.9.9","name":"n"}'), 4, /interface/);
  });

  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1']) {
    test(`CHECK is refused for ${v} with code 1`, async () => {
      const o = await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, JSON.stringify({ cniVersion: v, name: 'n' }));
      assertError(o, 1, /config version does not allow CHECK/);
    });
  }
  test('CHECK runs for 0.4.0', async () => {
    const o = await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, JSON.stringify({ cniVersion: '0.4.0', name: 'n' }));
    assert.equal(o.code, 0);
    assert.equal(o.calls.length, 1);
  });
  for (const cmd of ['GC', 'STATUS']) {
    test(`${cmd} is refused below 1.1.0 and runs at 1.1.0 without container id`, async () => {
      const env = { CNI_COMMAND: cmd, CNI_PATH: '/x' };
      assertError(
        await run(env, JSON.stringify({ cniVersion: '1.0.0', name: 'n' })),
        1,
        new RegExp(`does not allow ${cmd}`),
      );
      const ok = await run(env, JSON.stringify({ cniVersion: '1.1.0', name: 'n' }));
      assert.equal(ok.code, 0, ok.stdout);
      assert.equal(ok.calls[0]!.command, cmd);
    });
  }
  test("an unparsable version in a comparison is code 6, in libcni's words", async () => {
    const o = await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, '{"cniVersion":"banana","name":"n"}');
    assertError(
      o,
      6,
      /^failed to convert major version part "banana": strconv\.Atoi: parsing "banana": invalid syntax$/,
    );
    const four = await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, '{"cniVersion":"1.0.0.0","name":"n"}');
    assertError(four, 6, /^invalid version "1\.0\.0\.0": too many parts$/);
  });
  test('a two-part version compares as libcni parses it (1.0 is 1.0.0), then fails membership: code 1', async () => {
    const o = await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, '{"cniVersion":"1.0","name":"n"}');
    assertError(o, 1, /^incompatible CNI versions$/);
    assert.match(o.json!.details, /config is "1\.0"/);
  });
  test("a malformed CNI_ARGS pair is the handler step's error (999, LoadArgs' text), after the version gate", async () => {
    const bad = { ...ADD_ENV, CNI_ARGS: 'IgnoreUnknown=1;garbage' };
    assertError(await run(bad), 999, /^ARGS: invalid pair "garbage"$/);
    assertError(await run(bad, '{"cniVersion":"9.9.9","name":"n"}'), 1, /^incompatible CNI versions$/);
    assertError(await run({ ...bad, CNI_COMMAND: 'DEL' }), 999, /^ARGS: invalid pair "garbage"$/);
  });
  test('stdin `null` is a config without a name (7), an array or a number cannot be decoded (6)', async () => {
    assertError(await run(ADD_ENV, 'null'), 7, /^missing network name$/);
    assertError(await run(ADD_ENV, '[]'), 6, /^error unmarshall network config/);
    assertError(await run(ADD_ENV, '5'), 6, /^error unmarshall network config/);
  });
  test('an unknown command is code 4, after stdin checks', async () => {
    assertError(await run({ ...ADD_ENV, CNI_COMMAND: 'FROB' }), 4, /^unknown CNI_COMMAND: FROB$/);
    assertError(await run({ ...ADD_ENV, CNI_COMMAND: 'FROB' }, 'x'), 6, /unmarshall/);
  });
});

describe('skel: results and handler errors', () => {
  const shapes: Record<string, unknown> = {
    '0.3.1': {
      cniVersion: '0.3.1',
      interfaces: [{ name: 'cali123' }, { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/x' }],
      ips: [
        { version: '4', interface: 1, address: '10.0.0.5/32' },
        { version: '6', interface: 1, address: 'fd00::5/128' },
      ],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
      dns: {},
    },
    '1.0.0': { cniVersion: '1.0.0', ...RESULT },
  };
  for (const [v, want] of Object.entries(shapes)) {
    test(`ADD result in the ${v} shape`, async () => {
      const o = await run(ADD_ENV, JSON.stringify({ cniVersion: v, name: 'n' }));
      assert.equal(o.code, 0);
      assert.deepEqual(o.json, want);
      assert.match(o.stdout, /\n$/);
    });
  }

  test('the handler gets the parsed request', async () => {
    const o = await run(ADD_ENV);
    const req = o.calls[0]!;
    assert.equal(req.containerId, 'abc123');
    assert.equal(req.ifName, 'eth0');
    assert.deepEqual(req.path, ['/opt/cni/bin']);
    assert.deepEqual(req.args, { IgnoreUnknown: '1', K8S_POD_NAME: 'p' });
    assert.equal(req.config.name, 'net1');
    assert.equal(req.stdin, CONF);
  });

  test('a CniError from the handler passes through unchanged', async () => {
    const o = await run(ADD_ENV, CONF, {
      add: async () => {
        throw new CniError(11, 'try later', 'datastore busy');
      },
    });
    assert.equal(o.code, 1);
    assert.deepEqual(o.json, { cniVersion: '1.0.0', code: 11, msg: 'try later', details: 'datastore busy' });
  });

  test('a CniError from another bundle (same shape, other class) keeps its code', async () => {
    class ForeignCniError extends Error {
      constructor(
        readonly code: number,
        message: string,
      ) {
        super(message);
        this.name = 'CniError';
      }
    }
    const o = await run(ADD_ENV, CONF, {
      add: async () => {
        throw new ForeignCniError(50, 'not available');
      },
    });
    assert.equal(o.json!.code, 50);
    assert.equal(o.json!.msg, 'not available');
  });

  test('any other error is code 999 with its text', async () => {
    const o = await run(ADD_ENV, CONF, {
      del: async () => {
        throw new Error('kaput');
      },
    });
    assert.equal(o.code, 0, 'ADD unaffected');
    const d = await run({ ...ADD_ENV, CNI_COMMAND: 'DEL' }, CONF, {
      del: async () => {
        throw new Error('kaput');
      },
    });
    assert.equal(d.code, 1);
    assert.equal(d.json!.code, 999);
    assert.equal(d.json!.msg, 'kaput');
  });

  test("CNI_NETNS naming the plugin's own netns is refused with code 8", async () => {
    const o = await run({ ...ADD_ENV, CNI_NETNS: '/proc/self/ns/net' });
    assert.equal(o.code, 1);
    assert.equal(o.json!.code, 8);
    const ok = await run({ ...ADD_ENV, CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: '1' });
    assert.equal(ok.code, 0);
  });
});
