package herd.bench.controlplane;

import java.util.ArrayList;
import java.util.List;

/** One measured workload: an operation kind at a number of concurrent clients (closed loop). */
record Workload(Kind kind, int clients) {

    enum Kind {
        /** Write a new 8-byte sequential key with the run's value. */
        PUT,
        /** Linearizable read of one of the preloaded keys. */
        GET
    }

    Workload {
        if (clients < 1 || clients > 1024) {
            throw new IllegalArgumentException("workload with " + clients + " clients; use 1..1024");
        }
    }

    String label() {
        return (kind == Kind.PUT ? "put" : "get (linearizable)") + ", " + clients + (clients == 1 ? " client" : " clients");
    }

    String id() {
        return kind.name().toLowerCase() + ":" + clients;
    }

    /** Parses "put:1,put:16,put:64,get:1,get:64". */
    static List<Workload> parseList(String spec) {
        List<Workload> workloads = new ArrayList<>();
        for (String item : spec.split(",")) {
            String[] parts = item.trim().split(":");
            if (parts.length != 2) {
                throw new IllegalArgumentException("workload '" + item + "' is not KIND:CLIENTS, e.g. put:16 or get:64");
            }
            Kind kind = switch (parts[0]) {
                case "put" -> Kind.PUT;
                case "get" -> Kind.GET;
                default -> throw new IllegalArgumentException("workload kind '" + parts[0] + "' is unknown; use put or get");
            };
            try {
                workloads.add(new Workload(kind, Integer.parseInt(parts[1])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("workload '" + item + "' has client count '" + parts[1] + "', not a number");
            }
        }
        return List.copyOf(workloads);
    }
}
