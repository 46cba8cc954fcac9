/**
 * A workload driver for linearizability tests: client threads doing random operations against a
 * {@link herd.lincheck.workload.KvClient}, recorded with a monotonic clock into a
 * {@link herd.lincheck.History} for {@link herd.lincheck.LinearizabilityChecker}.
 *
 * <p>Unlike {@code herd.lincheck}, this package starts threads and reads the clock: it is test
 * tooling, the edge around the pure checker.
 */
package herd.lincheck.workload;
