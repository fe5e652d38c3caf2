package store;

import base.Accounts;
import base.Log;
import base.Settings;
import tmux.Tmux;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who t3-tmux looks after. The user map (default /etc/ttyd-user-map) has lines
 * {@code <auth>=<os_user>[:<cwd>]}; '#' comments and blank lines are ignored. Without a map, root
 * looks after every account with a live tmux server. Anyone else (single-user mode) looks after
 * herself alone, map or none.
 */
public final class Roster {
    /** One OS user to look after, with the default directory the map gives it (may be null). */
    public record Entry(String user, Path defaultCwd) {}

    /** A map line we could not use, by line number, for the log. */
    public record Problem(int line, String text) {}

    public record Parsed(List<Entry> entries, List<Problem> problems) {}

    private static final long MAX_MAP_BYTES = 1 << 20;

    private Roster() {}

    /** Parses a user map's text; bad lines become problems, duplicate users fold into the first. */
    public static Parsed parse(String text) {
        Map<String, Entry> byUser = new LinkedHashMap<>();
        List<Problem> problems = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int eq = line.indexOf('=');
            if (eq <= 0) {
                problems.add(new Problem(i + 1, "expected <auth>=<os_user>[:<cwd>]"));
                continue;
            }
            String rest = line.substring(eq + 1).strip();
            int colon = rest.indexOf(':');
            String user = colon < 0 ? rest : rest.substring(0, colon).strip();
            String cwd = colon < 0 ? "" : rest.substring(colon + 1).strip();
            if (!Accounts.validName(user)) {
                problems.add(new Problem(i + 1, "not a valid user name: '" + user + "'"));
                continue;
            }
            if (!cwd.isEmpty() && !cwd.startsWith("/")) {
                problems.add(new Problem(i + 1, "cwd must be an absolute path: '" + cwd + "'"));
                continue;
            }
            byUser.putIfAbsent(user, new Entry(user, cwd.isEmpty() ? null : Path.of(cwd)));
        }
        return new Parsed(List.copyOf(byUser.values()), problems);
    }

    /** Reads the map; empty when the file does not exist (the caller then discovers users). */
    public static Optional<Parsed> read(Path map) throws IOException {
        try {
            if (Files.size(map) > MAX_MAP_BYTES) throw new IOException(map + " is larger than 1 MiB; is it the right file?");
            return Optional.of(parse(Files.readString(map, StandardCharsets.UTF_8)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** The map as one person may read it (it may be root's alone): empty when she cannot. */
    private static Optional<Parsed> readIfAllowed(Path map) {
        try {
            return read(map);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Every account whose default tmux socket ({@code <tmpdir>/tmux-<uid>/default}) accepts a
     * connection. The uid comes from the socket directory's owner, which tmux itself insists on.
     */
    public static List<Entry> discoverLiveServers(Path tmuxTmpDir) {
        return discoverLiveServers(tmuxTmpDir, Tmux.DEFAULT_SOCKET);
    }

    /** As above, for the servers of socket {@code name} (T3_TMUX_SOCKET). */
    public static List<Entry> discoverLiveServers(Path tmuxTmpDir, String name) {
        List<Entry> found = new ArrayList<>();
        for (int uid : Tmux.liveServers(tmuxTmpDir, name)) Accounts.byUid(uid).ifPresent(a -> found.add(new Entry(a.name(), null)));
        found.sort(java.util.Comparator.comparing(Entry::user));
        return found;
    }

    /** The account of a roster user, or empty (and an error logged: the roster names no such user). */
    public static Optional<Accounts.Account> account(String user, Settings s) {
        Optional<Accounts.Account> a = Accounts.byName(user);
        if (a.isEmpty()) Log.error("%s: no such user (getent passwd); fix the roster %s", user, s.userMap());
        return a;
    }

    /** The roster for this run, or why the request cannot be served (bad --user: exit 2). */
    public record Resolution(List<Entry> entries, String usageError) {
        /** The users, in the roster's order. */
        public List<String> users() { return entries.stream().map(Entry::user).toList(); }
    }

    /**
     * The users this run looks after: the map (or, as root without one, {@code discover}), narrowed to
     * {@code only} when given. A name asked for with --user must be in the roster.
     */
    public static Resolution resolve(Settings s, List<String> only, java.util.function.Supplier<List<Entry>> discover) throws IOException {
        for (String u : only) {
            if (!Accounts.validName(u)) return new Resolution(List.of(), "not a valid user name: '" + u + "'");
            if (Accounts.byName(u).isEmpty()) return new Resolution(List.of(), "no such user: '" + u + "' (getent passwd knows no such account)");
        }
        Optional<Parsed> map = s.mode().system() ? read(s.userMap()) : readIfAllowed(s.userMap());
        List<Entry> all;
        if (s.mode().system()) map.map(Parsed::problems).orElse(List.of())
                .forEach(p -> Log.warn("%s line %d: %s; line ignored", s.userMap(), p.line(), p.text()));
        if (s.mode().singleUser()) {
            // Not root: herself alone, whatever the map says of others (her line there still gives her cwd).
            String self = Accounts.byUid(Accounts.currentUid()).map(Accounts.Account::name)
                    .orElseThrow(() -> new IOException("uid " + Accounts.currentUid() + " has no passwd entry"));
            all = List.of(map.flatMap(m -> m.entries().stream().filter(e -> e.user().equals(self)).findFirst()).orElse(new Entry(self, null)));
            for (String u : only) {
                if (!u.equals(self)) return new Resolution(List.of(), "single-user mode (not root) looks after you alone ('" + self + "'), not '" + u
                        + "'; an operator runs t3 as root for everyone");
            }
        } else if (map.isPresent()) {
            all = map.get().entries();
        } else if (Accounts.isRoot()) {
            // No map: --user names anyone; otherwise whoever has a live tmux server.
            if (!only.isEmpty()) return new Resolution(only.stream().distinct().map(u -> new Entry(u, null)).toList(), null);
            all = discover.get();
        } else {
            String self = Accounts.byUid(Accounts.currentUid()).map(Accounts.Account::name)
                    .orElseThrow(() -> new IOException("uid " + Accounts.currentUid() + " has no passwd entry"));
            all = List.of(new Entry(self, null));
        }
        if (only.isEmpty()) return new Resolution(all, null);
        List<Entry> picked = new ArrayList<>();
        for (String u : only.stream().distinct().toList()) {
            Optional<Entry> e = all.stream().filter(x -> x.user().equals(u)).findFirst();
            if (e.isEmpty()) return new Resolution(List.of(), "user '" + u + "' is not in the roster ("
                    + (map.isPresent() ? s.userMap() : "no user map; this run looks after " + all.stream().map(Entry::user).toList()) + ")");
            picked.add(e.get());
        }
        return new Resolution(picked, null);
    }
}
