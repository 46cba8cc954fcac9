package herd.agent;

/**
 * Decides which results of a recurring operation to report: the first, then only those whose
 * (rc, status) differs from the last reported one, as Pacemaker records recurring operations. Pure.
 */
final class RecurringReports {

    private boolean reportedAny;
    private int lastRc;
    private ExecStatus lastStatus;

    /** True when {@code result} should be reported; remembers it if so. */
    synchronized boolean shouldReport(OperationResult result) {
        if (reportedAny && result.rc() == lastRc && result.status() == lastStatus) {
            return false;
        }
        reportedAny = true;
        lastRc = result.rc();
        lastStatus = result.status();
        return true;
    }
}
