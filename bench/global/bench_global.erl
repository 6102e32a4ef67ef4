%% The Erlang side of `npm run bench:global` (bench/global/run.ts): every figure is timed here,
%% with erlang:monotonic_time, on the erl node that does the work, so the driver's rpc is not in it.
%% A Courier node of the cluster is reached through its registered process `bench_global_peer`
%% (bench/global/peer.ts), which answers the same questions an erl node answers here.
-module(bench_global).
-export([register_rate/3, pg_rate/5, pg_watch/4, sync_join/2, settle/3, cluster_view/2, holder/0]).

-define(PEER, bench_global_peer).

%% K fresh processes registered under K unique names {bench_global, Tag, I}, one
%% global:register_name/2 after the other (each returns yes once every node has the name).
%% Then every Courier node is asked how many names it knows, and the names are unregistered and
%% the processes stopped (not timed). {Microseconds, [{CourierNode, NamesThere}]}.
register_rate(Tag, K, CourierNodes) ->
    Pids = [spawn(fun holder/0) || _ <- lists:seq(1, K)],
    Names = [{bench_global, Tag, I} || I <- lists:seq(1, K)],
    Pairs = lists:zip(Names, Pids),
    T0 = erlang:monotonic_time(microsecond),
    lists:foreach(fun({N, P}) -> yes = global:register_name(N, P) end, Pairs),
    T1 = erlang:monotonic_time(microsecond),
    Seen = [{C, ask(C, names)} || C <- CourierNodes],
    lists:foreach(fun(N) -> global:unregister_name(N) end, Names),
    [P ! stop || P <- Pids],
    {T1 - T0, Seen}.

%% M fresh processes of this node join Group of scope pg, one pg:join/3 each. Before the first
%% join a watcher on every other node of the cluster (ErlOthers: erl nodes, spawned there;
%% CourierNodes: asked to start one) monitors the group (pg:monitor/2) and reports once its node
%% sees M members. The time runs from the first join until the last watcher has reported.
%% Then the processes leave and stop (not timed). {Microseconds, Watchers}.
pg_rate(Group, M, ErlOthers, CourierNodes, Timeout) ->
    Self = self(),
    Ref = make_ref(),
    Pids = [spawn(fun holder/0) || _ <- lists:seq(1, M)],
    Watchers = ErlOthers ++ CourierNodes,
    [spawn(N, ?MODULE, pg_watch, [Self, Ref, Group, M]) || N <- ErlOthers],
    [{?PEER, C} ! {Self, Ref, watch, Group, M} || C <- CourierNodes],
    [receive {Ref, ready, W} -> ok after Timeout -> exit({no_watcher, W}) end || W <- Watchers],
    T0 = erlang:monotonic_time(microsecond),
    [ok = pg:join(pg, Group, P) || P <- Pids],
    [receive {Ref, seen, W} -> ok after Timeout -> exit({not_seen, W}) end || W <- Watchers],
    T1 = erlang:monotonic_time(microsecond),
    ok = pg:leave(pg, Group, Pids),
    [P ! stop || P <- Pids],
    {T1 - T0, length(Watchers)}.

%% On a node of the cluster: tell Coord {Ref, ready, node()} once Group is monitored, and
%% {Ref, seen, node()} once this node's pg has M members in it.
pg_watch(Coord, Ref, Group, M) ->
    {MRef, Members} = pg:monitor(pg, Group),
    Coord ! {Ref, ready, node()},
    watch_loop(Coord, Ref, MRef, Group, M, length(Members)).

watch_loop(Coord, Ref, MRef, _Group, M, N) when N >= M ->
    Coord ! {Ref, seen, node()},
    pg:demonitor(pg, MRef);
watch_loop(Coord, Ref, MRef, Group, M, N) ->
    receive
        {MRef, join, Group, Pids} -> watch_loop(Coord, Ref, MRef, Group, M, N + length(Pids));
        {MRef, leave, Group, Pids} -> watch_loop(Coord, Ref, MRef, Group, M, N - length(Pids))
    after 60000 -> exit(watch_timeout)
    end.

%% On a fresh node (connected to nothing yet): connect to Contact, wait until this node is
%% connected to every node of Expected (global's connect_all does the rest), then global:sync().
%% Microseconds from before the connect until sync returned.
sync_join(Contact, Expected) ->
    ok = net_kernel:monitor_nodes(true),
    T0 = erlang:monotonic_time(microsecond),
    true = net_kernel:connect_node(Contact),
    wait_nodes(Expected),
    ok = global:sync(),
    T1 = erlang:monotonic_time(microsecond),
    ok = net_kernel:monitor_nodes(false),
    T1 - T0.

wait_nodes(Expected) ->
    case Expected -- nodes() of
        [] -> ok;
        Missing ->
            receive {nodeup, _} -> wait_nodes(Expected)
            after 30000 -> exit({not_connected, Missing})
            end
    end.

%% After node Gone left: wait until no node of Erls and CourierNodes lists it, then global:sync()
%% on every erl node. ok.
settle(Erls, CourierNodes, Gone) ->
    Lists = [rpc:call(E, erlang, nodes, []) || E <- Erls] ++ [ask(C, nodes) || C <- CourierNodes],
    case lists:any(fun(L) -> lists:member(Gone, L) end, Lists) of
        true -> timer:sleep(20), settle(Erls, CourierNodes, Gone);
        false ->
            [ok = rpc:call(E, global, sync, []) || E <- Erls],
            ok
    end.

%% What each node of the cluster lists in nodes() (visible nodes): [{Node, Nodes}].
cluster_view(Erls, CourierNodes) ->
    [{E, rpc:call(E, erlang, nodes, [])} || E <- Erls] ++ [{C, ask(C, nodes)} || C <- CourierNodes].

ask(C, What) ->
    Ref = make_ref(),
    {?PEER, C} ! {self(), Ref, What},
    receive {Ref, Answer} -> Answer after 10000 -> exit({no_answer, C, What}) end.

holder() ->
    receive stop -> ok end.
