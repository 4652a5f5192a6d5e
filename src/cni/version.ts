// The version the calico and calico-ipam plugins report (`calico -v`, the about text).
export const CALICO_CNI_VERSION = 'v3.30.0-calico-ts.0.1.0';
