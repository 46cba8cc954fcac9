package herd.agent;

/** An agent could not be asked for its meta-data (not installed, failed, timed out). */
public final class AgentUnavailableException extends Exception {

    private final transient OperationResult result;

    public AgentUnavailableException(AgentId agent, OperationResult result) {
        super("cannot get the meta-data of " + agent + ": " + result);
        this.result = result;
    }

    public OperationResult result() {
        return result;
    }
}
