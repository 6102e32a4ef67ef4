import { atom, provisionalAtom, type Atom } from '@courier/term';
import type { AddressResolver } from '@courier/core';
import { pidOfPortName, splitPortId } from './values/port-id.js';

/**
 * AEMP port ids as destinations of `send` (core's address-resolver hook): `<self>#~id.serial.creation`
 * is a local pid, `<self>#name` the process registered as `name` (dropped quietly if none, as Perl
 * drops messages to unknown ports), `<other>#port` a port of that node — sent over its connection
 * without making an atom of the port name. Strings without `#` are not claimed.
 */
export function addressResolver(self: Atom): AddressResolver {
  return (address) => {
    if (!address.includes('#')) return undefined;
    const [nodeid, port] = splitPortId(address);
    if (nodeid === '' || port === '') return undefined;
    if (nodeid === self.name) {
      const pid = pidOfPortName(self, port);
      // A name no atom has is no registered process (the message is dropped): a stand-in, no new atom.
      return pid !== undefined ? { kind: 'pid', pid } : { kind: 'name', name: provisionalAtom(port), node: self };
    }
    return { kind: 'port', node: atom(nodeid), port };
  };
}
