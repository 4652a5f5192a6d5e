import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxTable } from './node-status.js';
import { parseProtocols } from '../routing/bird-status.js';

// Data rows of BIRD 2.0.12's `show protocols` with `timeformat protocol iso short` (as read from the socket).
const rows = [
  'device1    Device     ---        up     14:01:02  ',
  'Mesh_172_31_1_12 BGP        ---        up     14:01:03  Established   ',
  'Mesh_fd00_31__12 BGP        ---        up     14:01:03  Established   ',
  'Global_172_31_1_250 BGP        ---        start  14:02:10  Active        Socket: Connection refused',
  'Node_10_0_0_9_port_1790 BGP        ---        start  14:02:10  Connect',
  'kernel_v4  Kernel     master4    up     14:01:02  ',
];

test('show protocols rows -> peers as calicoctl recovers them', () => {
  assert.deepEqual(
    parseProtocols(rows).map((p) => [p.address, p.family, p.type, p.state, p.since, p.bgpState, p.info]),
    [
      ['172.31.1.12', 4, 'node-to-node mesh', 'up', '14:01:03', 'Established', ''],
      ['fd00:31::12', 6, 'node-to-node mesh', 'up', '14:01:03', 'Established', ''],
      ['172.31.1.250', 4, 'global', 'start', '14:02:10', 'Active', 'Socket: Connection refused'],
      ['10.0.0.9.port.1790', 4, 'node specific', 'start', '14:02:10', 'Connect', ''],
    ],
  );
});

test("Calico's boxed table: centred headings, left-aligned cells", () => {
  assert.equal(
    boxTable(
      ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'],
      [['172.17.8.102', 'node-to-node mesh', 'up', '23:30:04', 'Established']],
    ),
    [
      '+--------------+-------------------+-------+----------+-------------+',
      '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
      '+--------------+-------------------+-------+----------+-------------+',
      '| 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established |',
      '+--------------+-------------------+-------+----------+-------------+',
    ].join('\n'),
  );
});
