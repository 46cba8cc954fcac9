package herd.agent;

/** One parameter an agent declares in its meta-data. */
public record AgentParameter(String name, boolean required, boolean unique, String type, String defaultValue,
                             String shortDescription) {
}
