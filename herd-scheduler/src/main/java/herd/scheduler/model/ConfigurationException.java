package herd.scheduler.model;

import java.util.List;

/** The configuration is not acceptable; every problem names the element and what is wrong with it. */
public class ConfigurationException extends IllegalArgumentException {
    private final List<String> problems;

    public ConfigurationException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
