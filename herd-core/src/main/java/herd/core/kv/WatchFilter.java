package herd.core.kv;

/** Which keys a watch follows: exactly one key, or every key under a prefix ("" for all). */
public record WatchFilter(String keyOrPrefix, boolean prefix) {
    public static WatchFilter key(String key) {
        return new WatchFilter(key, false);
    }

    public static WatchFilter prefix(String prefix) {
        return new WatchFilter(prefix, true);
    }

    public boolean matches(String key) {
        return prefix ? key.startsWith(keyOrPrefix) : key.equals(keyOrPrefix);
    }
}
