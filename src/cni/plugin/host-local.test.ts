import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dummyPodCidrs, substitutePodCidr } from './host-local.js';

test('usePodCidr and usePodCidrIPv6 become the Node podCIDRs, top-level and in ranges', () => {
  const cidrs = ['10.1.2.0/24', 'fd00:1::/64'];
  assert.deepEqual(substitutePodCidr({ type: 'host-local', subnet: 'usePodCidr' }, cidrs, 'Node n1'), {
    type: 'host-local',
    subnet: '10.1.2.0/24',
  });
  assert.deepEqual(
    substitutePodCidr(
      {
        type: 'host-local',
        ranges: [[{ subnet: 'usePodCidr' }], [{ subnet: 'usePodCidrIPv6' }], [{ subnet: '10.9.0.0/16' }]],
      },
      cidrs,
      'Node n1',
    ).ranges,
    [[{ subnet: '10.1.2.0/24' }], [{ subnet: 'fd00:1::/64' }], [{ subnet: '10.9.0.0/16' }]],
  );
  assert.deepEqual(substitutePodCidr({ subnet: 'usePodCidrIPv6' }, dummyPodCidrs, 'DEL'), { subnet: '::/0' });
});

test('a Node without a podCIDR of the family is an error naming it', () => {
  assert.throws(
    () => substitutePodCidr({ subnet: 'usePodCidrIPv6' }, ['10.1.2.0/24'], 'Node n1'),
    /usePodCidrIPv6: Node n1 has no IPv6 podCIDR/,
  );
});
