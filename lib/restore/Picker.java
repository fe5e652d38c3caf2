package restore;

import assistants.Assistants;
import base.Accounts;
import base.Json;
import base.Log;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import store.History;
import store.SavedPane;
import store.SavedSession;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;

/**
 * The picker inside tmux (the plugin's prefix + R): a tmux menu, newest first, of the sessions
 * she can bring back (saved, not live now), and a second page of snapshots. Every name and id in
 * it comes from her files: in the menu they are text, never a format or a command. An item's
 * command names only a number and this menu's token; the choices behind the numbers wait in
 * {@link StateStore#menuFile}, and {@code --pick TOKEN:N} acts on the one chosen.
 */
public final class Picker {
    /** What one item brings back: a session of a snapshot, or (session null) a whole snapshot. */
    public record Choice(String snapshot, String session) {}

    /** One item: what it says and what it brings back. */
    record Item(String label, Choice choice) {}

    /** Items a menu shows at most (a terminal's height); the snapshots page is one more. */
    static final int MAX_ITEMS = 30;
    /** Snapshots read to find sessions no longer live: the newest ones, enough for weeks of changes. */
    static final int MAX_SNAPSHOTS = 200;
    /** Characters of a title shown, at most. */
    static final int TITLE = 80;
    /** Menu keys, in order: q and Escape close a tmux menu. */
    private static final String KEYS = "123456789abcdefghijklmnoprstuvwxyz";

    private final StateStore store;
    private final String user;
    private final Instant now;
    /** Whose files the titles come from; null: no titles. */
    private final Accounts.Account account;

    public Picker(StateStore store, String user, Instant now) {
        this.store = store;
        this.user = user;
        this.now = now;
        this.account = Accounts.byName(user).orElse(null);
    }

    /** The sessions page: each saved session not live now, newest snapshot first, once each. */
    List<Item> sessions(Set<String> live) throws IOException {
        History history = store.history(user);
        List<Item> items = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>(live);
        List<History.Snapshot> all = history.list();
        for (History.Snapshot s : all.subList(0, Math.min(all.size(), MAX_SNAPSHOTS))) {
            List<SavedSession> rows;
            try {
                rows = history.read(s).rows();
            } catch (IOException e) {
                continue; // a snapshot that does not read costs its items, not the menu
            }
            for (SavedSession r : rows) {
                if (items.size() >= MAX_ITEMS) return items;
                if (!seen.add(r.session())) continue;
                items.add(new Item(sessionLabel(r, s.time()), new Choice(s.name(), r.session())));
            }
        }
        return items;
    }

    /** The snapshots page: the newest snapshots, each brought back whole (what is live stays). */
    List<Item> snapshots() throws IOException {
        History history = store.history(user);
        List<Item> items = new ArrayList<>();
        for (History.Snapshot s : history.list()) {
            if (items.size() >= MAX_ITEMS) break;
            String count;
            try {
                List<SavedSession> rows = history.read(s).rows();
                count = rows.size() + " sessions, " + rows.stream().mapToLong(r -> r.conversations().size()).sum() + " conversations";
            } catch (IOException e) {
                count = "does not read";
            }
            items.add(new Item(s.name() + "  " + ago(s.time()) + "  " + count, new Choice(s.name(), null)));
        }
        return items;
    }

    /**
     * "work  claude 3f2a1b2c "fix the build"  2 h ago  exited": the session, its conversations
     * (with a title where the file has one), when it last ran, why one is not running.
     */
    private String sessionLabel(SavedSession r, Instant seen) {
        StringBuilder b = new StringBuilder(SnapshotFormat.escape(r.session()));
        for (SavedPane p : r.conversations()) {
            b.append("  ").append(p.assistant()).append(' ').append(p.conversation(), 0, Math.min(8, p.conversation().length()));
            title(p).ifPresent(t -> b.append(" \"").append(cut(t.strip().replaceAll("\\s+", " "), TITLE)).append('"'));
        }
        // When it last ran: the save that last saw it live; a session kept after its server died, when that was noticed.
        b.append("  ").append(ago(r.ended() != null ? r.ended().noticed() : seen));
        r.conversations().stream().filter(p -> p.notRunning() != null).findFirst()
                .ifPresent(p -> b.append("  ").append(p.notRunning().kind().name().toLowerCase().replace('_', ' ')));
        if (r.ended() != null) b.append("  server ended");
        return b.toString();
    }

    /** The pane's conversation's title, read as her (bounded; nothing when it cannot be read). */
    private Optional<String> title(SavedPane p) {
        if (account == null) return Optional.empty();
        try {
            return Assistants.named(p.assistant()).flatMap(a -> a.title(account, a.home(account, p.home()), p.conversation()));
        } catch (RuntimeException e) {
            return Optional.empty(); // a title is a nicety: a file that does not read costs it, not the menu
        }
    }

    private String ago(Instant t) {
        Duration d = Duration.between(t, now);
        if (d.toMinutes() < 1) return "just now";
        if (d.toHours() < 1) return d.toMinutes() + " min ago";
        if (d.toDays() < 2) return d.toHours() + " h ago";
        return d.toDays() + " days ago";
    }

    /**
     * Shows a page on her tmux client: writes its choices under a new token, then draws the
     * menu, cut to the client's size (tmux draws no menu that does not fit). {@code relaunch} is
     * the shell command that runs t3-restore again (plain paths: no quoting needed); an item runs
     * it with {@code --pick TOKEN:N}.
     */
    public boolean show(Tmux tmux, String client, boolean snapshotsPage, Set<String> live, String relaunch) throws IOException {
        int[] size = tmux.clientSize(client);
        if (size == null) {
            Log.error("%s: %s is not a client of the tmux server t3 looks after (%s); load the plugin in that server", user, client, tmux.socket());
            return false;
        }
        List<Item> all = snapshotsPage ? snapshots() : sessions(live);
        // Borders, title, separator and the page item take 5 rows; borders, margins and the key take 10 columns.
        int rows = Math.max(1, size[1] - 6), width = Math.max(20, size[0] - 10);
        List<Item> items = all.size() > rows ? all.subList(0, rows - 1) : all;
        String token = Long.toHexString(Double.doubleToLongBits(Math.random()) ^ System.nanoTime());
        remember(token, items);

        List<String> args = new ArrayList<>(List.of("display-menu", "-c", client, "-x", "C", "-y", "C", "-T",
                snapshotsPage ? "t3: bring back a snapshot" : "t3: bring back a session"));
        for (int i = 0; i < items.size(); i++) {
            args.addAll(List.of(Tmux.menuText(cut(items.get(i).label(), width)), i < KEYS.length() ? String.valueOf(KEYS.charAt(i)) : "",
                    "run-shell -b \"" + relaunch + " --pick " + token + ":" + i + " --tmux-client " + client + "\""));
        }
        if (items.size() < all.size()) args.addAll(List.of("-(more: t3-restore --list, --find)", "", ""));
        if (items.isEmpty()) args.addAll(List.of(snapshotsPage ? "-(no snapshots yet)" : "-(nothing to bring back: every saved session is live)", "", ""));
        args.add(""); // a separator
        args.addAll(List.of(snapshotsPage ? "Sessions..." : "Snapshots...", "0",
                "run-shell -b \"" + relaunch + " --menu " + (snapshotsPage ? "sessions" : "snapshots") + " --tmux-client " + client + "\""));
        var r = tmux.showMenu(args);
        if (r.timedOut()) return true;
        String why = r.ok() ? "it does not fit the terminal (" + size[0] + "x" + size[1] + ")" : r.firstErrorLine();
        Log.error("%s: tmux did not show the menu on %s: %s", user, client, why);
        tmux.tell(client, "t3: the menu could not be shown: " + why);
        return false;
    }

    /** A label at most {@code width} characters long, cut with an ellipsis. */
    static String cut(String label, int width) {
        return label.codePointCount(0, label.length()) <= width ? label
                : label.substring(0, label.offsetByCodePoints(0, width - 1)) + "\u2026";
    }

    /**
     * Keeps this menu's choices beside the last few: a menu still on screen (a second press
     * draws nothing over it, yet came here first) stays good to choose from.
     */
    private void remember(String token, List<Item> items) throws IOException {
        ObjectNode doc = Json.MAPPER.createObjectNode();
        ArrayNode menus = doc.putArray("menus");
        ObjectNode menu = menus.addObject().put("token", token);
        ArrayNode choices = menu.putArray("choices");
        for (Item i : items) choices.addObject().put("snapshot", i.choice().snapshot()).put("session", i.choice().session());
        for (JsonNode older : menus(store.menuFile(user))) {
            if (menus.size() >= MENUS_KEPT) break;
            menus.add(older);
        }
        store.writeOwn(store.menuFile(user), Json.MAPPER.writeValueAsString(doc) + "\n");
    }

    /** Menus remembered, newest first. */
    static final int MENUS_KEPT = 8;

    private static List<JsonNode> menus(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try {
            JsonNode doc = Json.MAPPER.readTree(StateStore.readOwn(file));
            doc.path("menus").forEach(out::add);
        } catch (java.nio.file.NoSuchFileException e) {
            // no menu shown yet
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            Log.warn("%s is not JSON (%s); the menus it held are forgotten", file, e.getOriginalMessage());
        }
        return out;
    }

    /** The choice {@code TOKEN:N} names, when it is of a menu shown lately; empty otherwise (a stale menu). */
    public Optional<Choice> chosen(String pick) throws IOException {
        String[] f = pick.split(":", 2);
        if (f.length != 2 || !f[1].matches("\\d{1,4}")) return Optional.empty();
        for (JsonNode menu : menus(store.menuFile(user))) {
            if (!menu.path("token").asText().equals(f[0])) continue;
            JsonNode c = menu.path("choices").path(Integer.parseInt(f[1]));
            if (!c.isObject()) return Optional.empty();
            return Optional.of(new Choice(c.path("snapshot").asText(), c.path("session").isTextual() ? c.path("session").asText() : null));
        }
        return Optional.empty();
    }

    /**
     * The shell command that runs this checkout's t3-restore again from a menu item, with the
     * JBang caches this run was started with (the plugin's: her units' caches, offline), or
     * empty when a path is not plain (it goes into a tmux command unquoted).
     */
    public static Optional<String> relaunch(Path checkout, java.util.Map<String, String> env) {
        String dir = checkout.toAbsolutePath().normalize().toString();
        String plain = "[A-Za-z0-9/._+-]+";
        if (!dir.matches(plain)) return Optional.empty();
        String jbangDir = env.getOrDefault("JBANG_DIR", ""), repo = env.getOrDefault("JBANG_REPO", "");
        boolean caches = env.containsKey("T3_JBANG_BUNDLED") && jbangDir.matches(plain) && repo.matches(plain);
        String prefix = caches ? "env JBANG_DIR=" + jbangDir + " JBANG_REPO=" + repo + " JBANG_NO_VERSION_CHECK=true T3_JBANG_BUNDLED=1 " : "";
        return Optional.of(prefix + dir + "/jbang --quiet" + (caches ? " --offline " : " ") + dir + "/t3-restore.java");
    }
}
