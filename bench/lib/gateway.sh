# Sourced by bench/run.sh: the gateway scenario. The sample upstream (samples/Keygate.SampleUpstream) on loopback,
# measured directly, behind a bare YARP proxy (bench/Keygate.BareProxy: no auth, no metering) and behind Keygate's
# gateway, in turns. The sample refuses any call without Keygate's identity token, so the direct and bare legs send
# one that Keygate's forward-auth handed out: the upstream validates a token on every leg alike.

gw_path=/api/v1/ecgroup/lite
gw_issuer=http://keygate.bench.invalid

# Keygate needs the upstream's address before it starts, and the upstream Keygate's (for the JWKS): the upstream
# gets a port chosen here, below the kernel's ephemeral range (so no port-0 listener takes it meanwhile), and free now.
free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    echo "no free port found" >&2
    return 1
}

# gateway_settings : sets $up_port and the Keygate settings (gw_settings) of a route from /api/v1 to the upstream.
gateway_settings() {
    up_port=$(free_port)
    gw_settings=(--Keygate:Gateway:Issuer="$gw_issuer"
        --Keygate:Gateway:Routes:api:ClusterId=api --Keygate:Gateway:Routes:api:Match:Path='/api/v1/{**catch-all}'
        --Keygate:Gateway:Clusters:api:Destinations:one:Address="http://127.0.0.1:$up_port")
}

# start_upstreams : the sample upstream on $up_port trusting Keygate at $kg_url, and the bare proxy in front of it;
# sets $up_url, $up_pid, $bare_url, $bare_pid.
start_upstreams() {
    launch upstream "$upstream_dll" --contentRoot "$root/samples/Keygate.SampleUpstream" --urls "http://127.0.0.1:$up_port" \
        --Upstream:Issuer="$gw_issuer" --Upstream:JwksUrl="$kg_url/.well-known/jwks.json"
    up_pid=$pid
    listening upstream "$up_pid"
    up_url=$url
    launch bare "$bare_dll" --contentRoot "$root/bench/Keygate.BareProxy" --Upstream="$up_url"
    bare_pid=$pid
    listening bare "$bare_pid"
    bare_url=$url
}

# The bench session's identity token, from Keygate's forward-auth (a metered call). Keygate hands the same token out
# while it has at least a minute left, so one fetched right before a load outlives it.
identity_token() {
    curl -sf -o /dev/null -D - -H "Cookie: JSESSIONID=$KG_SESSION" -H "X-Original-Method: GET" -H "X-Original-URI: $gw_path" \
        "$kg_url/gateway/v1/authorize" | tr -d '\r' | sed -n 's/^[Aa]uthorization: Bearer //p'
}

# check_legs : one call on each leg must answer 200 (the token accepted, the route right), whatever the load does.
check_legs() {
    local token code
    token=$(identity_token)
    for target in "$up_url" "$bare_url"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$target$gw_path")
        [ "$code" = 200 ] || { echo "gateway scenario: $target$gw_path answered $code with the identity token" >&2; return 1; }
    done
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: JSESSIONID=$KG_SESSION" "$kg_url$gw_path")
    [ "$code" = 200 ] || { echo "gateway scenario: Keygate's $gw_path answered $code on the bench session" >&2; return 1; }
}

gateway_leg() { # KEY : one load on that leg
    local key=$1 leg=${1#gw.} target script=bearer.lua
    leg=${leg%%.*}
    case $leg in
        direct) target=$up_url ;;
        bare) target=$bare_url ;;
        kg) target=$kg_url script=session.lua ;;
    esac
    KG_BEARER=$(identity_token)
    [ -n "$KG_BEARER" ] || { echo "Keygate's forward-auth gave no identity token" >&2; return 1; }
    export KG_BEARER
    if [ "$key" = "gw.$leg" ]; then warm_up "$target$gw_path" "$script"; return 0; fi
    # CPU per call of the proxy and of the upstream: steadier than req/s on a shared machine.
    local proxy_pid
    case $leg in direct) proxy_pid="" ;; bare) proxy_pid=$bare_pid ;; kg) proxy_pid=$kg_pid ;; esac
    local up_before proxy_before=0 proxy_after=0
    up_before=$(cpu_ticks "$up_pid")
    [ -z "$proxy_pid" ] || proxy_before=$(cpu_ticks "$proxy_pid")
    measure "$key" "$target$gw_path" "$script" "$conns" "$threads" "$dur"
    [ -z "$proxy_pid" ] || proxy_after=$(cpu_ticks "$proxy_pid")
    R[$key.up_ticks]=$(( $(cpu_ticks "$up_pid") - up_before ))
    R[$key.proxy_ticks]=$((proxy_after - proxy_before))
}

# cpu_per_call KEY TICKS_FIELD : µs of CPU per answered request over all rounds of a leg.
cpu_per_call() {
    local ticks=0 r
    for r in $(seq 1 "$rounds"); do ticks=$((ticks + ${R[$1.$r.$2]})); done
    calc %.0f "$ticks * 1000000 / $(getconf CLK_TCK) / (${R[$1.requests]} > 0 ? ${R[$1.requests]} : 1)"
}

# gateway_bench : the three legs in $rounds rounds, the order rotating each round so that every leg takes every
# place; R[gw.direct.*], R[gw.bare.*], R[gw.kg.*] as alternate() leaves them.
gateway_bench() {
    local legs=(gw.direct gw.bare gw.kg) r i
    check_legs
    for i in 0 1 2; do gateway_leg "${legs[$i]}"; done
    for r in $(seq 1 "$rounds"); do
        for i in 0 1 2; do gateway_leg "${legs[$(( (i + r - 1) % 3 ))]}.$r"; done
    done
    for i in 0 1 2; do aggregate "${legs[$i]}"; done
}
