package restore;

import store.SavedSession;
import store.SavedPane;
import base.ConversationId;
import store.History;
import store.Owed;
import store.SnapshotFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which saved rows one restore looks at: the newest snapshot (boot, blanket), one snapshot
 * (--snapshot), some sessions of it (--session), or one session found anywhere in the history
 * (--find). A request that names something that is not there is refused whole, before anything
 * is created.
 */
public record Selection(List<SavedSession> rows, boolean explicit, String from, List<String> problems, String conversation) {
    public Selection(List<SavedSession> rows, boolean explicit, String from) {
        this(rows, explicit, from, List.of());
    }

    public Selection(List<SavedSession> rows, boolean explicit, String from, List<String> problems) {
        this(rows, explicit, from, problems, null);
    }

    /**
     * Whether {@code pane}'s conversation was asked for: every pane of a session named (--session,
     * --find NAME), only the one found when --find named a conversation: asking for one is no
     * reason to resume another the user quit in the same session.
     */
    public boolean asked(SavedPane pane) {
        return explicit && (conversation == null || ConversationId.same(conversation, pane.conversation()));
    }

    /** A request that cannot be served as asked: a bad argument (exit 2), said in words. */
    public static final class Refused extends Exception {
        public Refused(String message) { super(message); }
    }


    /**
     * The newest snapshot, or {@code time}'s; only {@code sessions} of it when some are named.
     * Without a time, rows a restore still owes are looked at too.
     */
    public static Selection of(History history, Owed pending, String time, List<String> sessions) throws IOException, Refused {
        Optional<History.Snapshot> snap = time == null ? history.newest() : history.find(time);
        if (snap.isEmpty()) {
            if (time != null) throw new Refused("no snapshot '" + time + "'; t3-restore --list --user USER shows them");
            if (pending.rows().isEmpty()) return new Selection(List.of(), !sessions.isEmpty(), "no snapshot");
        }
        Map<String, SavedSession> rows = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        if (snap.isPresent()) {
            SnapshotFormat.Parsed parsed = history.read(snap.get());
            parsed.rows().forEach(r -> rows.putIfAbsent(r.session(), r));
            parsed.problems().forEach(p -> problems.add(snap.get().file() + " line " + p.line() + ": " + p.text()));
        }
        if (time == null) for (SavedSession r : pending.rows()) rows.putIfAbsent(r.session(), r);
        String from = snap.map(s -> "snapshot " + s.name()).orElse("what a restore still owes");
        if (sessions.isEmpty()) return new Selection(new ArrayList<>(rows.values()), false, from, problems);
        List<String> unknown = sessions.stream().filter(s -> !rows.containsKey(s)).distinct().toList();
        if (!unknown.isEmpty()) throw new Refused("no session named " + quoted(unknown) + " in " + from + "; restored nothing");
        return new Selection(sessions.stream().distinct().map(rows::get).toList(), true, from, problems);
    }

    /**
     * One session by exact name (names match as strings: "7" is not "007") or by a prefix of its
     * conversation id, searched across every snapshot, newest first. A name wins over an id
     * prefix; a prefix that fits two conversations is refused, naming both.
     */
    public static Selection find(History history, String text) throws IOException, Refused {
        Map<String, SavedSession> byId = new LinkedHashMap<>();
        Map<String, String> fromById = new LinkedHashMap<>();
        String idPrefix = ConversationId.isPrefix(text) ? text : null;
        for (History.Snapshot s : history.list()) {
            for (SavedSession r : history.read(s).rows()) {
                if (r.session().equals(text)) return new Selection(List.of(r), true, "snapshot " + s.name());
                if (idPrefix == null) continue;
                for (SavedPane p : r.conversations()) {
                    String id = ConversationId.normal(p.conversation());
                    if (ConversationId.startsWith(id, idPrefix) && byId.putIfAbsent(id, r) == null) fromById.put(id, s.name());
                }
            }
        }
        if (byId.isEmpty()) throw new Refused("no session named '" + text + "' and no conversation id starting with it in any snapshot");
        if (byId.size() > 1) {
            List<String> which = byId.entrySet().stream().map(e -> e.getKey() + " (session '" + e.getValue().session() + "')").toList();
            throw new Refused("'" + text + "' starts " + byId.size() + " conversations: " + String.join(", ", which) + "; give more of the id");
        }
        String id = byId.keySet().iterator().next();
        return new Selection(List.of(byId.get(id)), true, "snapshot " + fromById.get(id), List.of(), id);
    }

    private static String quoted(List<String> names) {
        return String.join(", ", names.stream().map(n -> "'" + n + "'").toList());
    }
}
