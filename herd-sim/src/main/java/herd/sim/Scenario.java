package herd.sim;

import java.util.List;

/**
 * Everything one simulated run is made of, drawn from its seed: the cluster, the resource
 * configuration, how the agents misbehave, and the faults and when they strike.
 *
 * @param template        which configuration template the resources come from
 * @param crmText         the resource configuration in crm shell syntax
 * @param fencing         whether a fence device is configured (else safety rests on leases)
 * @param nodes           node names; the first {@link #SERVER_COUNT} are the servers
 * @param agents          how the simulated resource agents behave while faults are on
 * @param faults          the fault schedule, in time order, all before {@code quietFromMillis}
 * @param quietFromMillis from then on no new fault is injected and agents behave
 * @param endMillis       when the run ends and the cluster must have settled
 */
public record Scenario(long seed, Template template, String crmText, boolean fencing, List<String> nodes,
                       AgentBehaviour agents, List<Fault> faults, long quietFromMillis, long endMillis) {

    /** Three voting servers: the Raft group of the control plane. */
    public static final int SERVER_COUNT = 3;

    public Scenario {
        nodes = List.copyOf(nodes);
        faults = List.copyOf(faults);
        if (nodes.size() < SERVER_COUNT) {
            throw new IllegalArgumentException("a scenario needs at least " + SERVER_COUNT + " nodes, got " + nodes);
        }
    }

    public List<String> servers() {
        return nodes.subList(0, SERVER_COUNT);
    }

    public boolean isServer(String node) {
        return servers().contains(node);
    }

    /** The configuration templates scenarios are drawn from. */
    public enum Template { SINGLE_PRIMITIVE, GROUP_OF_THREE, ANONYMOUS_CLONE, UNIQUE_CLONE, COLOCATED_PAIR }

    /**
     * Misbehaviour of the resource agents while faults are on, as probabilities per operation, and
     * the range of their normal run times.
     */
    public record AgentBehaviour(double startFailure, double stopFailure, double hang, double falseMonitorAlarm,
                                 long minMillis, long maxMillis) {
        public static AgentBehaviour healthy(long minMillis, long maxMillis) {
            return new AgentBehaviour(0, 0, 0, 0, minMillis, maxMillis);
        }
    }

    /** One fault the scenario injects at {@code atMillis}. */
    public sealed interface Fault {
        long atMillis();

        /** The node loses power: everything on it stops; it boots again, empty, after {@code downMillis}. */
        record Crash(long atMillis, String node, long downMillis) implements Fault {}

        /** Whichever server leads at that moment loses power (a leader killed mid-transition). */
        record CrashLeader(long atMillis, long downMillis) implements Fault {}

        /** {@code isolated} are cut off from everyone else for {@code durationMillis}. */
        record Partition(long atMillis, List<String> isolated, long durationMillis) implements Fault {
            public Partition {
                isolated = List.copyOf(isolated);
            }
        }

        /** Every fence device fails for {@code durationMillis}. */
        record FenceDeviceOutage(long atMillis, long durationMillis) implements Fault {}

        /** The resource's process dies wherever it runs (a flapping monitor will see it). */
        record ResourceDies(long atMillis, String resource) implements Fault {}
    }
}
