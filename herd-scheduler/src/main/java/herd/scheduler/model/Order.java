package herd.scheduler.model;

/**
 * "first firstAction then then thenAction": kind Mandatory, Optional or Serialize; symmetrical orders
 * also stop in reverse.
 */
public record Order(String id, String first, String firstAction, String then, String thenAction, String kind,
                    boolean symmetrical) {
    public boolean mandatory() {
        return "Mandatory".equalsIgnoreCase(kind);
    }
}
