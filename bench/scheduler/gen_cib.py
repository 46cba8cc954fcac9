#!/usr/bin/env python3
"""Writes a Pacemaker CIB (configuration + status) for a generated cluster, for the scheduler benchmark.

Usage: gen_cib.py NODES RESOURCES [SEED] > cluster.xml

The cluster mixes what real ones have: standalone primitives, groups of three, a few anonymous clones,
location preferences and bans, colocations, mandatory orders, and a status section where most
resources already run (some with a failed monitor), so the scheduler has real work: keep most
resources in place, place the stopped ones, recover the failed ones.
"""
import random
import sys

# Pacemaker compares each recorded operation's digest of the resource's parameters with the current
# one and restarts the resource when they differ. These are the digests its own regression data
# records for a parameterless agent (start) and a plain 10 s monitor, so crm_simulate sees no change.
START_DIGEST = 'crm_feature_set="3.0.9" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"'
MONITOR_DIGEST = 'crm_feature_set="3.0.9" op-digest="4811cef7f7f94e3a35a70be7916cb2fd"'


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: gen_cib.py NODES RESOURCES [SEED]")
    nodes_n, rsc_n = int(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    nodes = [f"node{i:04d}" for i in range(1, nodes_n + 1)]
    out = sys.stdout.write
    out('<cib have-quorum="1" execution-date="1700000000" validate-with="pacemaker-3.9" epoch="1" num_updates="1" admin_epoch="0">\n')
    out(' <configuration>\n  <crm_config><cluster_property_set id="opts">'
        '<nvpair id="o-fencing" name="stonith-enabled" value="false"/>'
        '<nvpair id="o-nqp" name="no-quorum-policy" value="stop"/></cluster_property_set></crm_config>\n')
    out('  <nodes>\n' + ''.join(f'   <node id="{n}" uname="{n}"/>\n' for n in nodes) + '  </nodes>\n')
    out('  <rsc_defaults><meta_attributes id="rd"><nvpair id="rd-st" name="resource-stickiness" value="100"/>'
        '</meta_attributes></rsc_defaults>\n')

    def prim(rid):
        return (f'<primitive id="{rid}" class="ocf" provider="heartbeat" type="Dummy"><operations>'
                f'<op id="{rid}-mon" name="monitor" interval="10s"/></operations></primitive>')

    primitives = []   # (id, top-level id)
    tops = []         # top-level ids that constraints may name
    clones = []
    out('  <resources>\n')
    made = 0
    g = c = 0
    while made < rsc_n:
        kind = rnd.random()
        if kind < 0.15 and rsc_n - made >= 3:
            gid = f"grp{g:05d}"
            g += 1
            members = [f"{gid}-m{k}" for k in range(3)]
            out(f'   <group id="{gid}">' + ''.join(prim(m) for m in members) + '</group>\n')
            primitives += [(m, gid) for m in members]
            tops.append(gid)
            made += 3
        elif kind < 0.152 and len(clones) < 10:
            cid = f"cln{c:03d}"
            c += 1
            out(f'   <clone id="{cid}">{prim(cid + "-child")}</clone>\n')
            clones.append(cid)
            made += 1
        else:
            rid = f"rsc{made:06d}"
            out('   ' + prim(rid) + '\n')
            primitives.append((rid, rid))
            tops.append(rid)
            made += 1
    out('  </resources>\n  <constraints>\n')
    for i, t in enumerate(tops):
        r = rnd.random()
        if r < 0.2:
            out(f'   <rsc_location id="loc{i}" rsc="{t}" node="{rnd.choice(nodes)}" score="{rnd.choice([50, 100, 200])}"/>\n')
        elif r < 0.25:
            out(f'   <rsc_location id="ban{i}" rsc="{t}" node="{rnd.choice(nodes)}" score="-INFINITY"/>\n')
    for i in range(1, len(tops)):
        r = rnd.random()
        if r < 0.05:
            other = tops[rnd.randrange(0, i)]
            score = rnd.choice(["INFINITY", "100", "-INFINITY"])
            out(f'   <rsc_colocation id="col{i}" rsc="{tops[i]}" with-rsc="{other}" score="{score}"/>\n')
        elif r < 0.10:
            other = tops[rnd.randrange(0, i)]
            out(f'   <rsc_order id="ord{i}" first="{other}" then="{tops[i]}" kind="Mandatory"/>\n')
    out('  </constraints>\n </configuration>\n <status>\n')
    # Current state: most primitives already run on a random node (a group on one node), a few failed.
    where = {}
    for rid, top in primitives:
        if top not in where:
            where[top] = rnd.choice(nodes) if rnd.random() < 0.8 else None
    history = {n: [] for n in nodes}
    call = 1
    for rid, top in primitives:
        node = where[top]
        if node is None:
            continue
        failed = rnd.random() < 0.01
        ops = (f'<lrm_rsc_op id="{rid}_start_0" operation="start" interval="0" rc-code="0" op-status="0" '
               f'call-id="{call}" transition-key="1:1:0:bench" {START_DIGEST}/>'
               f'<lrm_rsc_op id="{rid}_monitor_10000" operation="monitor" interval="10000" '
               f'rc-code="{7 if failed else 0}" op-status="0" call-id="{call + 1}" transition-key="2:1:0:bench" '
               f'{MONITOR_DIGEST}/>')
        call += 2
        history[node].append(f'<lrm_resource id="{rid}" class="ocf" provider="heartbeat" type="Dummy">{ops}</lrm_resource>')
    for cid in clones:
        for n in nodes:
            if rnd.random() < 0.5:
                history[n].append(f'<lrm_resource id="{cid}-child" class="ocf" provider="heartbeat" type="Dummy">'
                                  f'<lrm_rsc_op id="{cid}_start_0" operation="start" interval="0" rc-code="0" '
                                  f'op-status="0" call-id="{call}" transition-key="1:1:0:bench" {START_DIGEST}/></lrm_resource>')
                call += 1
    for n in nodes:
        out(f'  <node_state id="{n}" uname="{n}" in_ccm="true" crmd="online" join="member" expected="member">'
            f'<lrm id="{n}"><lrm_resources>{"".join(history[n])}</lrm_resources></lrm></node_state>\n')
    out(' </status>\n</cib>\n')


if __name__ == "__main__":
    main()
