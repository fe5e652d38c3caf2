package restore;

import store.SavedSession;
import store.SavedPane;
import store.Ended;
import base.Json;
import base.Accounts;
import base.Cli;
import store.History;
import base.Log;
import base.Settings;
import store.SnapshotFormat;
import store.StateStore;
import base.Tables;
import tmux.Tmux;
import com.fasterxml.jackson.databind.ObjectMapper;
import keep.Whereabouts;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operator's (and the web terminal's) verbs of t3-restore that are not a restore: --list,
 * --forget, the tmux menu (--menu), and printing a plan. Tables for people; with --json one document for programs,
 * whose field names are a contract: add fields, rename none.
 */
public final class RestoreVerbs {
    private static final ObjectMapper JSON = Json.MAPPER;

    private RestoreVerbs() {}

    /**
     * --list: the user's snapshots, newest first. JSON fields: snapshot, time, sessions,
     * conversations, running, ended (sessions kept after their tmux server died), assistants
     * (conversations by assistant: {"claude": 2, "codex": 1}), kept (ids of conversations gone
     * from their assistant that t3 kept: a restore puts them back), lost (gone, and no copy).
     */
    public static int list(StateStore store, String user, boolean json) throws IOException {
        History history = store.history(user);
        java.util.Optional<Whereabouts> where = Accounts.byName(user).map(a -> new Whereabouts(store, a));
        java.util.Set<String> lostIds = new java.util.LinkedHashSet<>();
        List<Map<String, Object>> out = new ArrayList<>();
        int unreadable = 0;
        for (History.Snapshot s : history.list()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("snapshot", s.name());
            o.put("time", s.time().toString());
            try {
                List<SavedSession> rows = history.read(s).rows();
                o.put("sessions", rows.size());
                // Every pane's conversation counts: a session may run several.
                o.put("conversations", rows.stream().mapToLong(r -> r.conversations().size()).sum());
                o.put("running", rows.stream().flatMap(r -> r.conversations().stream()).filter(SavedPane::running).count());
                o.put("ended", rows.stream().filter(r -> r.ended() != null).count());
                Map<String, Long> by = new java.util.TreeMap<>();
                rows.stream().flatMap(r -> r.conversations().stream()).forEach(p -> by.merge(p.assistant(), 1L, Long::sum));
                o.put("assistants", by);
                List<String> kept = new ArrayList<>(), lost = new ArrayList<>();
                rows.stream().flatMap(r -> r.conversations().stream()).forEach(p -> {
                    Whereabouts.Place place = where.map(w -> w.of(p)).orElse(Whereabouts.Place.UNKNOWN);
                    if (place == Whereabouts.Place.KEPT) kept.add(p.conversation());
                    if (place == Whereabouts.Place.LOST) lost.add(p.conversation());
                });
                o.put("kept", kept);
                o.put("lost", lost);
                lostIds.addAll(lost);
            } catch (IOException e) {
                Log.error("%s: cannot read snapshot %s: %s", user, s.file(), Cli.describe(e));
                unreadable++;
                continue;
            }
            out.add(o);
        }
        if (json) {
            printJson(out);
        } else if (out.isEmpty()) {
            Log.info("%s: no snapshots in %s", user, store.dir());
        } else {
            List<String[]> rows = out.stream().map(o -> new String[] {(String) o.get("snapshot"), (String) o.get("time"),
                    o.get("sessions").toString(), o.get("conversations").toString(), o.get("running").toString(), o.get("ended").toString(),
                    String.valueOf(((List<?>) o.get("kept")).size()), String.valueOf(((List<?>) o.get("lost")).size()), byAssistant(o.get("assistants"))}).toList();
            Tables.print(System.out, List.of("SNAPSHOT", "TIME", "SESSIONS", "CONVERSATIONS", "RUNNING", "ENDED", "KEPT", "LOST", "ASSISTANTS"), rows);
        }
        if (!lostIds.isEmpty()) {
            Log.warn("%s: %d saved conversation(s) are gone and t3 kept no copy (T3_KEEP_CONVERSATIONS_MAX): %s", user, lostIds.size(),
                    String.join(", ", lostIds.stream().limit(10).toList()) + (lostIds.size() > 10 ? ", …" : ""));
        }
        return unreadable == 0 ? 0 : 1;
    }

    /** "claude 2, codex 1", or '-' for none. */
    private static String byAssistant(Object counts) {
        Map<?, ?> m = (Map<?, ?>) counts;
        return m.isEmpty() ? "-" : String.join(", ", m.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList());
    }

    /** --forget NAME: forgotten, and the row no longer owed. Refuses a name no snapshot knows. */
    public static int forget(Settings settings, StateStore store, String user, String name, boolean dryRun) throws IOException {
        if (!known(store, user, name)) {
            Log.error("%s: no session named '%s' in any snapshot; t3-restore --list --user %s shows them", user, name, user);
            return 2;
        }
        Accounts.Account account = Accounts.byName(user).orElseThrow(() -> new IOException("no such user " + user));
        Tmux.Listing live = Tmux.of(account, settings).listSessions();
        if (live.sessions().stream().anyMatch(s -> s.name().equals(name))) {
            Log.warn("%s: session '%s' is live right now: it stays forgotten once closed; a session of that name made later un-forgets it",
                    user, name);
        }
        if (dryRun) {
            Log.info("%s: would forget '%s': blanket and boot restores would skip it", user, name);
            return 0;
        }
        store.forgotten(user).add(name, Instant.now());
        store.owed(user).strike(name);
        Log.info("%s: forgot '%s': blanket and boot restores skip it until it is live again; t3-restore --user %s --find '%s' brings it back",
                user, name, user, name);
        return 0;
    }

    /** --menu: the picker's page on her tmux client ({@link Picker}). */
    public static int menu(Settings settings, StateStore store, String user, boolean snapshots, String client) throws IOException {
        Accounts.Account account = Accounts.byName(user).orElseThrow(() -> new IOException("no such user " + user));
        Tmux tmux = Tmux.of(account, settings);
        java.nio.file.Path checkout = java.nio.file.Path.of(System.getenv().getOrDefault("T3_CHECKOUT", ".")).toAbsolutePath();
        java.util.Optional<String> relaunch = Picker.relaunch(checkout, System.getenv());
        if (relaunch.isEmpty()) {
            tmux.tell(client, "t3: the checkout's path has characters a menu cannot carry; move it to a plain path (~/t3-tmux)");
            Log.error("%s: %s has characters a tmux command cannot carry unquoted (white space, quotes, $, #); move the checkout", user, checkout);
            return 2;
        }
        Tmux.Listing live = tmux.listSessions();
        java.util.Set<String> names = new java.util.HashSet<>();
        live.sessions().forEach(x -> names.add(x.name()));
        return new Picker(store, user, Instant.now()).show(tmux, client, snapshots, names, relaunch.get()) ? 0 : 1;
    }

    /** --pick of a menu that is no longer the newest (another was shown since): said on her client. */
    public static int staleMenu(Settings settings, String user, String client) {
        Log.error("%s: that menu is no longer the newest; open it again", user);
        if (client != null) Accounts.byName(user).ifPresent(a -> Tmux.of(a, settings).tell(client, "t3: that menu is out of date; open it again"));
        return 2;
    }

    /** How a restore from the menu went, on her client. */
    public static void tellRestored(Settings settings, String user, String client, String snapshot, List<String> sessions, int failed) {
        String what = sessions.isEmpty() ? "snapshot " + snapshot : "session '" + String.join("', '", sessions) + "'";
        Accounts.byName(user).ifPresent(a -> Tmux.of(a, settings).tell(client, failed == 0 ? "t3: brought back " + what
                : "t3: could not bring back all of " + what + " (t3-restore --dry-run says why)"));
    }

    private static boolean known(StateStore store, String user, String name) throws IOException {
        History history = store.history(user);
        for (History.Snapshot s : history.list()) {
            if (history.read(s).rows().stream().anyMatch(r -> r.session().equals(name))) return true;
        }
        return store.owed(user).rows().stream().anyMatch(r -> r.session().equals(name));
    }

    /**
     * One row of a --dry-run plan. JSON fields: user, session, state, action, conversation (or
     * null), assistant (its, or null), running, why, and panes: for a session brought back, each
     * pane's window, pane, action (resume, program, shell), conversation and assistant or
     * program, and why.
     */
    public static Map<String, Object> planEntry(String user, RestorePlan.Step step) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("user", user);
        o.put("session", step.row().session());
        o.put("state", step.state().token);
        o.put("action", step.action().token);
        o.put("conversation", step.row().conversation());
        o.put("assistant", step.row().assistant());
        o.put("running", step.row().running());
        o.put("why", step.why());
        Ended ended = step.row().ended();
        // A session kept after its server died (and a new one took its place): which server, when seen, the evidence of a crash.
        o.put("ended", ended == null ? null : endedEntry(ended));
        List<Map<String, Object>> panes = new java.util.ArrayList<>();
        for (RestorePlan.PanePlan p : step.panes()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("window", p.pane().window() < 0 ? null : p.pane().window());
            x.put("pane", p.pane().index() < 0 ? null : p.pane().index());
            x.put("action", p.action().token);
            x.put("conversation", p.pane().conversation());
            x.put("assistant", p.pane().assistant());
            x.put("program", p.action() == RestorePlan.Action.PROGRAM ? p.pane().program() : null);
            x.put("why", p.why());
            panes.add(x);
        }
        o.put("panes", panes);
        return o;
    }

    private static Map<String, Object> endedEntry(Ended e) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("server", e.server());
        o.put("noticed", e.noticed().toString());
        o.put("crash", e.crash());
        return o;
    }

    public static void printPlan(List<Map<String, Object>> plan, boolean json) throws IOException {
        print(plan, json, List.of("user", "session", "state", "action", "assistant", "conversation", "why"));
    }

    /** Entries as JSON, or as a table of these fields (a name escaped to one line, none as '-'). */
    public static void print(List<Map<String, Object>> entries, boolean json, List<String> fields) throws IOException {
        if (json) {
            printJson(entries);
            return;
        }
        List<String[]> rows = entries.stream().map(o -> fields.stream().map(f -> o.get(f) == null ? "-"
                : f.equals("session") ? SnapshotFormat.escape((String) o.get(f)) : o.get(f).toString()).toArray(String[]::new)).toList();
        Tables.print(System.out, fields.stream().map(String::toUpperCase).toList(), rows);
    }

    private static void printJson(Object value) throws IOException {
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
        System.out.flush();
    }
}
