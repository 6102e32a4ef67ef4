/**
 * The `courier` help texts: `courier --help` (every command, the common options, the exit
 * codes) and `courier <command> --help` (its arguments, its options, examples). docs/cli.md says
 * the same at more length; test/help.test.ts holds every command to having examples.
 */

export const EXIT_CODES = `exit codes:
  0  done (pong; a call's result; a configuration that checks out)
  1  the remote side said no: badrpc, an exception, a timeout, a refused connection (pang to a reachable node)
  2  usage or configuration error (an unknown flag, a bad term, a configuration problem); nothing was started
  3  the node could not be reached (not registered in EPMD, nothing listening, nodedown)`;

const CONNECT_OPTIONS = `connection options (ping, send, call):
  --cookie C              the cookie (default COURIER_COOKIE, then ~/.erlang.cookie)
  --carrier tcp|tls       the carrier to dial with (default tcp); tls takes:
  --tls-cert F --tls-key F [--tls-cacert F] | --tls-optfile F   (an OTP ssl_dist optfile)
  --config FILE           a configuration file instead of the flags (its carriers, routes, cookie)
  --epmd-port P           EPMD's port (default ERL_EPMD_PORT or 4369)
  --timeout MS            how long to wait for an answer (default 10000)
  --log-level L           fatal … trace (default warn); logs go to stderr as JSON`;

/** `courier COMMAND --help` for each command: usage, options, examples. */
export const COMMANDS: Readonly<Record<string, string>> = {
  node: `usage: courier node --config FILE [--check] [--observer HOST:PORT]
       courier node --name NAME@HOST | --sname NAME [--cookie C] [--carrier tcp|tls|tcp,tls] [--port P] [--visible] [--tls-…]

Runs a Courier node serving the echo services (an \`echo\` process, the \`courier_echo\` module),
until SIGINT or SIGTERM. Prints \`READY <name>\` once it listens (and \`OBSERVER <url>\` with --observer).

options:
  --config FILE           the node's configuration (docs/configuration.md); relative paths in it are
                          resolved against the file's directory; \`plugins: [...]\` loads carrier plugins
  --check                 check the configuration, print the node, its carriers and routes, start nothing
  --name NAME@HOST        the node name (long names); --sname NAME: NAME@<this host's short name>
  --cookie C              the cookie (default COURIER_COOKIE, then ~/.erlang.cookie)
  --carrier K             tcp (default), tls, or tcp,tls (one port, one EPMD name, both carriers)
  --tls-cert F --tls-key F [--tls-cacert F]   the TLS carrier's certificate, key and CA (PEM)
  --tls-optfile F         an OTP ssl_dist optfile instead of the three --tls-* files
  --port P                the listening port (default: any free port, registered in EPMD)
  --epmd-port P           EPMD's port (default ERL_EPMD_PORT or 4369)
  --visible               a visible node (in the peers' nodes()); default hidden
  --log-level L           default info
  --observer HOST:PORT    serve the live web observer and /metrics (docs/observer.md); beyond loopback
                          only with --observer-token T (or COURIER_OBSERVER_TOKEN); --observer-metrics-token,
                          --observer-hostname NAME, --observer-origin ORIGIN

examples:
  courier node --name ts@127.0.0.1 --cookie secret
  courier node --config node.yaml
  courier node --config node.yaml --check
  courier node --sname ts --carrier tls --tls-cert node.pem --tls-key node.key --tls-cacert ca.pem
  courier node --config node.yaml --observer 127.0.0.1:8080`,

  names: `usage: courier names [HOST]

Lists the node names registered in EPMD on HOST (default 127.0.0.1), as \`epmd -names\` does.

options:
  --epmd-port P           EPMD's port (default ERL_EPMD_PORT or 4369)

examples:
  courier names
  courier names 10.0.0.5 --epmd-port 4370`,

  ping: `usage: courier ping NODE [options]

Connects to NODE and asks it net_kernel:is_auth/1, as net_adm:ping/1 does. Prints pong (exit 0) or pang:
exit 1 when NODE answered but refused (a wrong cookie, not allowed), exit 3 when it could not be reached.

${CONNECT_OPTIONS}

examples:
  courier ping ts@127.0.0.1 --cookie secret
  courier ping ts@127.0.0.1 --carrier tls --tls-cert client.pem --tls-key client.key --tls-cacert ca.pem
  courier ping ts@127.0.0.1 --config client.yaml`,

  send: `usage: courier send DEST TERM [options]

Sends TERM (Erlang syntax) to DEST, a registered name on a node: {Name, 'node@host'}. Prints ok.

${CONNECT_OPTIONS}

examples:
  courier send "{echo, 'ts@127.0.0.1'}" "{self, hi}" --cookie secret
  courier send "{logger, 'app@10.0.0.5'}" '<<"hello">>' --carrier tls --tls-optfile ./dist.conf`,

  call: `usage: courier call NODE MOD FUN [ARGS] [options]

Calls MOD:FUN(ARGS…) on NODE (erpc, as rpc:call/4) and prints the result in Erlang syntax.
ARGS is an Erlang list (default []). {badrpc, …} is exit 1; {badrpc, nodedown} exit 3.

${CONNECT_OPTIONS}

examples:
  courier call ts@127.0.0.1 courier_echo add "[1, 2]" --cookie secret
  courier call erl@127.0.0.1 erlang node
  courier call erl@127.0.0.1 lists reverse '[[1, 2, 3]]' --carrier tls --tls-optfile ./dist.conf`,

  aemp: `usage: courier aemp snd PORTID TERM…
       courier aemp mon PORTID
       courier aemp db keys|values FAMILY | db get FAMILY KEY | db set FAMILY KEY [TERM]

AnyEvent::MP ports and the global registry (docs/aemp.md), through a short-lived AEMP node.
  snd     sends the TERMs (Erlang syntax) to PORTID
  mon     waits, and prints \`DOWN Reason\` when the port dies
  db …    the registry: keys and values of a family, get one key (exit 1 if unset), set one

options:
  --seed HOST:PORT        a seed of the network (repeatable)
  --peer NODEID=HOST:PORT a node's address (repeatable)
  --secret S              the network's shared secret (default COURIER_AEMP_SECRET)
  --config FILE           a configuration with an aemp carrier instead of the three above
  --hold MS               db set: keep the key that long (it lives while this command runs)
  --timeout MS            default 10000

examples:
  courier aemp snd courier-echo#echo '"me#x"' hello --seed 127.0.0.1:4040 --secret S
  courier aemp mon perl-a#worker --seed 127.0.0.1:4040 --secret S
  courier aemp db keys workers --seed 127.0.0.1:4040 --secret S`,

  'sshrpc-subsystem': `usage: courier sshrpc-subsystem --target NODE --allow MOD:FUN[/ARITY]… [--allow-name NAME…] [options]

Serves sshrpc on stdin/stdout, for sshd_config's \`Subsystem sshrpc@k2r.org\` (docs/ssh.md): each
allowed call runs on NODE over the Erlang distribution; everything not allowed is refused.

options:
  --target NODE           the node the calls run on
  --allow MOD:FUN[/A]     a callable function (repeatable); deny by default
  --allow-name NAME       a registered name on NODE that {send, Name, Msg} may reach (repeatable)
  --cookie C | --config FILE   how to reach NODE (as courier call)

examples:
  courier sshrpc-subsystem --target app@127.0.0.1 --allow courier_echo:add/2
  # in sshd_config:
  Subsystem sshrpc@k2r.org /usr/bin/courier sshrpc-subsystem --target app@127.0.0.1 --allow courier_echo:add/2 --config /etc/courier/rpc.yaml`,
};

/** `courier --help`: the commands, examples and exit codes. */
export const USAGE = `usage: courier <command> [arguments] [options]

commands:
  node               run a node (--config FILE, or --name/--cookie flags); --check validates only
  names [HOST]       EPMD names on HOST
  ping NODE          pong / pang
  send DEST TERM     send TERM to {Name, 'node@host'}
  call NODE MOD FUN [ARGS]   MOD:FUN(ARGS) on NODE, the result in Erlang syntax
  aemp snd|mon|db …  AnyEvent::MP ports and registry
  sshrpc-subsystem   sshrpc on stdin/stdout for sshd

\`courier <command> --help\` shows a command's options and examples; docs/cli.md has them all.

examples:
  courier node --name ts@127.0.0.1 --cookie secret
  courier call ts@127.0.0.1 courier_echo add "[1, 2]" --cookie secret
  courier node --config node.yaml --check

${EXIT_CODES}`;

/** The help of `cmd` (the general usage for an unknown one). */
export function helpFor(cmd: string | undefined): string {
  return (cmd !== undefined ? COMMANDS[cmd] : undefined) ?? USAGE;
}

/** The first line(s) of a command's help: its usage, for an error message. */
export function usageLine(cmd: string | undefined): string {
  const help = helpFor(cmd);
  if (cmd === undefined || COMMANDS[cmd] === undefined) return 'usage: courier <command> [arguments] [options]; courier --help for more';
  return `${help.slice(0, help.indexOf('\n\n'))}\n(courier ${cmd} --help for more)`;
}
