package herd.core;

import herd.core.command.QueryResult;
import herd.core.kv.KeyRules;
import herd.core.kv.KeyValue;
import herd.core.kv.KvStore;
import java.util.List;
import java.util.Optional;

/** Read queries on the key-value space, with the same input checks as writes. */
final class KvQueries {
    private KvQueries() {}

    static QueryResult get(KvStore kv, String key) {
        Optional<Rejection> invalid = KeyRules.checkKey(key);
        if (invalid.isPresent()) {
            return new QueryResult.Refused(invalid.get());
        }
        return new QueryResult.KvValue(kv.revision(), kv.get(key).orElse(null));
    }

    static QueryResult list(KvStore kv, String prefix, int limit) {
        if (prefix == null) {
            prefix = "";
        }
        if (limit < 1 || limit > Limits.MAX_LIST_LIMIT) {
            return new QueryResult.Refused(new Rejection(ErrorCode.BAD_REQUEST, "limit " + limit
                + " is out of range: give 1 to " + Limits.MAX_LIST_LIMIT));
        }
        List<KeyValue> found = kv.list(prefix, limit);
        return new QueryResult.KvRange(kv.revision(), found, kv.hasMoreThan(prefix, limit));
    }
}
