import type { ServiceHost } from '../seams/transport.js';
import type { Node } from './node.js';

/**
 * The narrow facade protocol services run processes through (net_kernel, rex, sshrpc, AEMP node
 * services): what a transport may do with the node, and nothing else of it.
 */
export function serviceHostOf(node: Node): ServiceHost {
  return {
    name: node.name,
    log: node.log,
    exposed: node.exposed,
    exits$: node.exits$,
    spawn: (body, opts) => node.spawn(body, opts),
    send: (dest, msg) => node.send(dest, msg),
    whereis: (name) => node.whereis(name),
    isAlive: (pid) => node.isAlive(pid),
    setGroupLeader: (pid) => {
      node.groupLeader = pid;
    },
    addAddressResolver: (resolver) => node.addAddressResolver(resolver),
    node,
  };
}
