package store;

import base.ConversationId;
import base.Json;
import base.Cli;
import base.Log;
import base.Procfs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * What heal did for one user ({@code USER.heals}, JSON, root-only): each stale live record it
 * acted on (so one crash is healed once, and a later /exit is never undone by an old record),
 * each conversation's heals (for the crash-loop limit), and running counts of healed, waited
 * and gave up, for a metrics file to take later.
 */
public final class HealLedger {
    private static final ObjectMapper JSON = Json.MAPPER;
    /** This boot: a record is evidence only within its boot, so what heal did is kept exactly that long. */
    private static final String BOOT = Procfs.bootId();

    private final StateStore store;
    private final String user;
    private final ObjectNode doc;
    private final Set<String> handled = new HashSet<>();

    private HealLedger(StateStore store, String user, ObjectNode doc) {
        this.store = store;
        this.user = user;
        this.doc = doc;
        entries().forEach(e -> handled.add(e.path("record").asText()));
    }

    public static HealLedger read(StateStore store, String user) throws IOException {
        ObjectNode doc;
        Path file = newer(store.healFile(user), store.healFallback(user));
        try {
            JsonNode n = JSON.readTree(StateStore.readOwn(file));
            doc = n instanceof ObjectNode o ? o : JSON.createObjectNode();
        } catch (NoSuchFileException e) {
            doc = JSON.createObjectNode();
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            Log.error("%s: %s is not JSON (%s); starting a new one", user, file, e.getOriginalMessage());
            doc = JSON.createObjectNode();
        }
        if (!(doc.get("handled") instanceof ArrayNode)) doc.putArray("handled");
        if (!(doc.get("counts") instanceof ObjectNode)) doc.putObject("counts");
        return new HealLedger(store, user, doc);
    }

    /** Whether heal already acted on this record (healed from it, or gave up on it). */
    public boolean handled(String record) {
        return handled.contains(record);
    }

    /** How often this conversation was healed since {@code since}. */
    public long healsSince(String conversation, Instant since) {
        long n = 0;
        for (JsonNode e : entries()) {
            if (ConversationId.same(e.path("conversation").asText(), conversation) && e.path("outcome").asText().equals("healed")
                    && !Instant.parse(e.path("time").asText(Instant.EPOCH.toString())).isBefore(since)) n++;
        }
        return n;
    }

    /** Whether heal already brought back the sessions that ended with this server ({@code pid@start}). */
    public boolean handledServer(String server) {
        return handled.contains(SERVER + server);
    }

    /** Heal brought back the sessions that ended with this server: never again for it, whatever she does with them. */
    public void serverHealed(String server, Instant now) {
        ObjectNode e = ((ArrayNode) doc.get("handled")).addObject();
        e.put("record", SERVER + server).put("outcome", "server-healed").put("time", now.toString()).put("boot", BOOT);
        handled.add(SERVER + server);
        count("servers-healed");
    }

    /** How a server's entry is told from a live record's (a record's key is a path). */
    private static final String SERVER = "tmux server ";

    /** Heal resumed {@code conversation} on the evidence of {@code record} (a live record's key). */
    public void healed(String record, String conversation, Instant now) { act(record, conversation, "healed", now); }

    public void gaveUp(String record, String conversation, Instant now) { act(record, conversation, "gave-up", now); }

    public void waited() { count("waited"); }

    /** The running counts the ledger keeps: conversations healed, waits for a busy pane, crash loops given up on, servers brought back. */
    public static final java.util.List<String> COUNTS = java.util.List.of("healed", "waited", "gave-up", "servers-healed");

    /** How many of {@code what} (one of {@link #COUNTS}) heal has done for this user, ever. */
    public long counted(String what) {
        return doc.path("counts").path(what).asLong(0);
    }

    /** How many times heal acted with {@code outcome} ("healed", "gave-up", "server-healed") since {@code since} (this boot's entries only). */
    public long since(String outcome, Instant since) {
        long n = 0;
        for (JsonNode e : entries()) {
            if (!e.path("outcome").asText().equals(outcome)) continue;
            try {
                if (!Instant.parse(e.path("time").asText()).isBefore(since)) n++;
            } catch (java.time.format.DateTimeParseException x) {
                // not a time: not counted
            }
        }
        return n;
    }

    /** A record heal will not act on: its conversation runs again, or it was dealt with with another record. */
    public void superseded(String record, String conversation, Instant now) {
        entry(record, conversation, "superseded", now);
    }

    private void entry(String record, String conversation, String outcome, Instant now) {
        ObjectNode e = ((ArrayNode) doc.get("handled")).addObject();
        e.put("record", record).put("conversation", conversation).put("outcome", outcome).put("time", now.toString()).put("boot", BOOT);
        handled.add(record);
    }

    /**
     * Records what heal did. When the state dir cannot take it (a full disk), it goes to the
     * fallback under /run ({@link StateStore#healFallback}) and {@link Kept} says so: heal goes on,
     * and acts on nothing twice. An IOException otherwise: nothing could be recorded.
     */
    public void write(Instant now) throws IOException {
        ArrayNode kept = JSON.createArrayNode();
        for (JsonNode e : entries()) {
            // Records of earlier boots are never evidence again (LiveRecords.stale): their entries can go.
            if (e.path("boot").asText().equals(BOOT)) kept.add(e);
        }
        doc.set("handled", kept);
        String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n";
        Path fallback = store.healFallback(user);
        try {
            store.writeOwn(store.healFile(user), text);
        } catch (IOException e) {
            try {
                StateStore.mkdirPrivate(fallback.getParent().getParent());
                store.writeOwn(fallback, text);
            } catch (IOException f) {
                e.addSuppressed(f);
                throw e;
            }
            throw new Kept(user + ": what heal did could not be recorded in " + store.healFile(user) + " (" + Cli.describe(e) + "); kept in "
                    + fallback + " for this boot, until it can", e);
        }
        java.nio.file.Files.deleteIfExists(fallback);
    }

    /** What heal did went to the fallback: recorded for this boot, not in the state dir. */
    public static final class Kept extends IOException {
        Kept(String message, IOException cause) { super(message, cause); }
    }

    /** Of the ledger and its fallback, the one written last (the fallback only while it exists). */
    private static Path newer(Path file, Path fallback) {
        try {
            if (!java.nio.file.Files.isRegularFile(fallback, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return file;
            if (!java.nio.file.Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return fallback;
            return java.nio.file.Files.getLastModifiedTime(fallback, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    .compareTo(java.nio.file.Files.getLastModifiedTime(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) >= 0 ? fallback : file;
        } catch (IOException e) {
            return file;
        }
    }

    /** What to log when {@link #write} failed: where it went, or that nothing could be recorded. */
    public String cannotWrite(IOException e) {
        if (e instanceof Kept) return e.getMessage();
        return user + ": what heal did could not be recorded in " + store.healFile(user) + " nor in " + store.healFallback(user) + " ("
                + Cli.describe(e) + ")";
    }

    /** Forgets that heal brought back these servers' sessions (its restore did not start: the next heal tries again). */
    public void forgetServers(java.util.Collection<String> servers) {
        java.util.Iterator<JsonNode> it = doc.path("handled").iterator();
        while (it.hasNext()) {
            String record = it.next().path("record").asText();
            if (servers.stream().anyMatch(s -> record.equals(SERVER + s))) it.remove();
        }
        servers.forEach(s -> handled.remove(SERVER + s));
    }

    private void act(String record, String conversation, String outcome, Instant now) {
        entry(record, conversation, outcome, now);
        count(outcome);
    }

    private void count(String what) {
        ObjectNode counts = (ObjectNode) doc.get("counts");
        counts.put(what, counts.path(what).asLong(0) + 1);
    }

    private Iterable<JsonNode> entries() {
        return doc.path("handled");
    }
}
