package herd.scheduler.model;

/**
 * Dependent runs with (score > 0) or away from (score < 0) primary. Sets are expanded into pairs
 * when read.
 */
public record Colocation(String id, String dependent, String primary, int score, Role dependentRole,
                         Role primaryRole, boolean influence) {}
