package herd.scheduler.crm;

import static org.assertj.core.api.Assertions.assertThat;

import herd.scheduler.model.Configuration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** load(show(x)) == x for configurations built from generated crm text. */
class CrmShellRoundTripTest {

    @Property(tries = 300)
    void showThenLoadIsIdentity(@ForAll("configurations") String text) {
        Configuration x = CrmShell.parse(text);
        String shown = CrmShell.format(x);
        assertThat(CrmShell.parse(shown)).as(shown).isEqualTo(x);
    }

    @Provide
    Arbitrary<String> configurations() {
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(8),
                Arbitraries.of("10.0.0.1", "/dev/drbd0", "a b c", "“quoted”", "x=y"));
        Arbitrary<String> agent = Arbitraries.of("ocf:heartbeat:IPaddr2", "lsb:nginx", "systemd:mysql", "stonith:fence_ipmilan",
                "ocf:linbit:drbd");
        Arbitrary<String> score = Arbitraries.of("inf", "-inf", "100", "-50", "0", "INFINITY");
        Arbitrary<List<String>> values = value.list().ofSize(12);
        Arbitrary<List<String>> agents = agent.list().ofSize(6);
        Arbitrary<List<String>> scores = score.list().ofSize(8);
        Arbitrary<Integer> count = Arbitraries.integers().between(2, 6);
        Arbitrary<List<Boolean>> flags = Arbitraries.of(true, false).list().ofSize(8);
        return Combinators.combine(count, values, agents, scores, flags).as(CrmShellRoundTripTest::text);
    }

    private static String text(int n, List<String> values, List<String> agents, List<String> scores, List<Boolean> flags) {
        List<String> lines = new ArrayList<>();
        lines.add("node n1 attributes pingd=" + q(values.get(0)));
        lines.add("node $id=\"2\" n2 utilization cpu=4");
        for (int i = 0; i < n; i++) {
            StringBuilder p = new StringBuilder("primitive r" + i + " " + agents.get(i % agents.size()));
            if (flags.get(i)) p.append(" \\\n  params a=").append(q(values.get(i + 1))).append(" b=").append(q(values.get(i + 2)));
            if (flags.get(i + 1)) p.append(" \\\n  meta target-role=Started resource-stickiness=").append(scores.get(i));
            p.append(" \\\n  op monitor interval=").append(10 + i).append("s timeout=20s");
            if (flags.get(i + 2)) p.append(" \\\n  op start interval=0 timeout=60 on-fail=restart");
            lines.add(p.toString());
        }
        lines.add("group g r0 r1 meta target-role=Started");
        if (n > 2) lines.add((flags.get(3) ? "ms" : "clone") + " c r2 meta clone-max=2");
        lines.add("location l1 g " + scores.get(0) + ": n1");
        lines.add("location l2 g rule $id=l2-r " + scores.get(1) + ": pingd lte " + q(values.get(3)) + " and #uname ne n2");
        lines.add("location l3 g rule " + scores.get(2) + ": not_defined pingd or pingd number:lt 1000 rule pingd: defined pingd");
        if (n > 2) lines.add("colocation co " + scores.get(3) + ": g c:" + (flags.get(4) ? "Master" : "Started"));
        if (n > 2) lines.add("order o " + (flags.get(5) ? "Optional" : "inf") + ": c:promote g:start" + (flags.get(6) ? " symmetrical=false" : ""));
        if (n > 3) lines.add("order chain Mandatory: r3 g r2");
        if (flags.get(0)) lines.add("fencing_topology r0 r1" + (n > 2 ? ",r" + (n - 1) : ""));
        if (flags.get(1) || flags.get(2)) {
            lines.add("fencing_topology " + (flags.get(2) ? "n2: r1" + (flags.get(3) ? " r0,r1" : "") + " " : "")
                    + "n1: r" + (n - 1) + "," + "r0 \\\n  r1");
        }
        lines.add("property stonith-enabled=false no-quorum-policy=" + (flags.get(7) ? "stop" : "ignore"));
        lines.add("rsc_defaults resource-stickiness=" + scores.get(4));
        return String.join("\n", lines) + "\n";
    }

    private static String q(String v) {
        return v.contains(" ") || v.contains("=") ? "\"" + v + "\"" : v;
    }
}
