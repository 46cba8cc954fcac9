package herd.agent.runner;

import herd.agent.OperationRequest;

/**
 * Runs one operation of one class of agent. Blocks the calling thread (the executor calls it on a
 * virtual thread) for at most the request's timeout, plus the bounded time to kill a timed-out agent.
 * Operating failures are answers, never exceptions.
 */
public interface AgentRunner {

    AgentAnswer run(OperationRequest request);
}
