%% Erlang side of `npm run bench:scale` (bench/scale/run.ts): the peers' sink and target
%% processes, and the Erlang hub, which runs the same steps as the Courier hub (hub.ts) and
%% prints the same lines: `MARK Label` (the driver samples this OS process's RSS and CPU, then
%% the hub waits 300 ms), `RESULT Key Value`, `DONE`.
-module(scale_bench).
-export([peer/0, hub_peers/4, hub_procs/3]).

%% A peer: scale_sink counts messages and answers {sync, From, Ref} with {Ref, Count};
%% scale_target traps exits and is what hubs monitor and link to.
peer() ->
    register(scale_sink, spawn(fun() -> sink(0) end)),
    register(scale_target, spawn(fun() -> process_flag(trap_exit, true), drain() end)),
    io:format("UP~n").

sink(N) ->
    receive
        {sync, From, Ref} -> From ! {Ref, N}, sink(N);
        _ -> sink(N + 1)
    end.

drain() -> receive _ -> drain() end.

mark(Label) ->
    io:format("MARK ~s~n", [Label]),
    timer:sleep(300).

result(Key, Value) -> io:format("RESULT ~s ~p~n", [Key, Value]).

gc_all() -> [erlang:garbage_collect(P) || P <- processes()], ok.

mem() -> gc_all(), erlang:memory(total).

%% Connected to Warm (loads the distribution's code) and idle for IdleS s, connect to Peers,
%% then: memory per connection, CPU while idle for IdleS s, M messages round robin over every
%% peer's sink (best of 3, each ended by a sync with every sink).
hub_peers(Warm, Peers, M, IdleS) ->
    true = net_kernel:connect_node(Warm),
    true = rpc:call(Warm, erlang, garbage_collect, []),
    Mem0 = mem(),
    mark("base"),
    timer:sleep(IdleS * 1000),
    mark("base1"),
    [true = net_kernel:connect_node(P) || P <- Peers],
    Mem1 = mem(),
    mark("conn"),
    result("mem_per_conn", (Mem1 - Mem0) / length(Peers)),
    timer:sleep(IdleS * 1000),
    mark("idle1"),
    Sinks = list_to_tuple([{scale_sink, P} || P <- Peers]),
    Rates = [rate(Sinks, M) || _ <- [1, 2, 3]],
    result("rate", lists:max(Rates)),
    io:format("DONE~n"),
    halt().

rate(Sinks, M) ->
    N = tuple_size(Sinks),
    T0 = erlang:monotonic_time(microsecond),
    send_loop(Sinks, N, M, 0),
    Refs = [begin R = make_ref(), element(I, Sinks) ! {sync, self(), R}, R end || I <- lists:seq(1, N)],
    [receive {R, _} -> ok end || R <- Refs],
    T1 = erlang:monotonic_time(microsecond),
    M / ((T1 - T0) / 1.0e6).

send_loop(_Sinks, _N, M, M) -> ok;
send_loop(Sinks, N, M, I) ->
    element(I rem N + 1, Sinks) ! {msg, I},
    send_loop(Sinks, N, M, I + 1).

%% NProcs idle processes (memory per process, spawn time), then the time for a nodedown to
%% reach 1 monitor, NWatch monitors and NWatch links (trapped) to Peer's scale_target, counted
%% by a collector each watcher reports to.
%% As in hub.ts, the spawn time runs until the processes have started and wait in receive (the last
%% one spawned is waiting), and the memory leaves out the growth of this process's own heap (the
%% pid list the Courier hub does not hold).
hub_procs(Peer, NProcs, NWatch) ->
    Mem0 = mem(),
    {memory, S0} = process_info(self(), memory),
    mark("base"),
    T0 = erlang:monotonic_time(microsecond),
    Idle = spawn_idle(NProcs, []),
    wait_waiting(hd(Idle)),
    T1 = erlang:monotonic_time(microsecond),
    Mem1 = mem(),
    {memory, S1} = process_info(self(), memory),
    mark("procs"),
    result("spawn_us", T1 - T0),
    result("mem_per_proc", ((Mem1 - Mem0) - (S1 - S0)) / NProcs),
    result("down_1", nodedown(Peer, 1, monitor)),
    result("down_monitors", nodedown(Peer, NWatch, monitor)),
    result("down_links", nodedown(Peer, NWatch, link)),
    result("alive", length(Idle)),
    io:format("DONE~n"),
    halt().

wait_waiting(P) ->
    case process_info(P, status) of
        {status, waiting} -> ok;
        _ -> erlang:yield(), wait_waiting(P)
    end.

spawn_idle(0, Acc) -> Acc;
spawn_idle(N, Acc) -> spawn_idle(N - 1, [spawn(fun() -> receive stop -> ok end end) | Acc]).

nodedown(Peer, N, Kind) ->
    true = net_kernel:connect_node(Peer),
    Target = rpc:call(Peer, erlang, whereis, [scale_target]),
    Self = self(),
    Collector = spawn(fun() -> collect(N, Self) end),
    [spawn(fun() -> watch(Kind, Target, Self, Collector) end) || _ <- lists:seq(1, N)],
    [receive ready -> ok end || _ <- lists:seq(1, N)],
    %% Every LINK / MONITOR_P is on the wire before the one below (same connection, in order).
    true = rpc:call(Peer, erlang, garbage_collect, [], infinity),
    T0 = erlang:monotonic_time(microsecond),
    erlang:disconnect_node(Peer),
    receive {collected, T1} -> T1 - T0 end.

watch(monitor, Target, Hub, Collector) ->
    Ref = erlang:monitor(process, Target),
    Hub ! ready,
    receive {'DOWN', Ref, process, _, noconnection} -> Collector ! got end;
watch(link, Target, Hub, Collector) ->
    process_flag(trap_exit, true),
    link(Target),
    Hub ! ready,
    receive {'EXIT', Target, noconnection} -> Collector ! got end.

collect(0, Hub) -> Hub ! {collected, erlang:monotonic_time(microsecond)};
collect(N, Hub) -> receive got -> collect(N - 1, Hub) end.
