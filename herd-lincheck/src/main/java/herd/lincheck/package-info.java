/**
 * A linearizability checker for key-value histories.
 *
 * <p>A test records every call its clients make as an {@link herd.lincheck.Operation} (client, key,
 * {@link herd.lincheck.Action}, {@link herd.lincheck.Outcome}, invocation and answer times), collects
 * them into a {@link herd.lincheck.History}, and asks {@link herd.lincheck.LinearizabilityChecker}
 * whether the store behaved like one register per key whose operations each took effect at one
 * instant between invocation and answer. Operations that got no answer are "indeterminate": they may
 * have taken effect at any later time, or never. {@link herd.lincheck.HistoryFormat} saves and loads
 * histories as text for replay.
 *
 * <p>Pure: no I/O, no clock, no threads. The workload driver that records histories against a real
 * store lives in {@code herd.lincheck.workload}.
 */
package herd.lincheck;
