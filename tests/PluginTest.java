import base.Accounts;
import base.Procfs;
import claude.Conversations;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tmux.Tmux;

/**
 * The tmux plugin, as she uses it: t3-tmux.tmux loaded into her real tmux server, a real client
 * attached (in a pane of an outer tmux of hers), keys pressed with send-keys, the menu read off
 * the screen with capture-pane; choosing an item brings that session back, and a session whose
 * name is made to look like tmux formats and commands shows as text and runs nothing.
 */
class PluginTest {
    /** A name that is a tmux format, a tmux command, a shell command and two lines, each of which would run if it reached one. */
    static final String EVIL = "evil#{pid}#(touch /tmp/t3-pwned-b);run-shell 'touch /tmp/t3-pwned-a' $(touch /tmp/t3-pwned-c)\nline2";
    static final List<Path> PWNED = List.of(Path.of("/tmp/t3-pwned-a"), Path.of("/tmp/t3-pwned-b"), Path.of("/tmp/t3-pwned-c"));

    @Test
    void theMenuBringsBackWhatSheChoosesAndHostileNamesAreText() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create the throwaway person who is not root; run the tests as root (CI does)");
        for (Path p : PWNED) Files.deleteIfExists(p);
        try (TestUsers users = new TestUsers()) {
            Person her = new Person(users);
            Accounts.Account a = her.account;
            Tmux inner = users.tmux(a);
            Path proj = a.home().resolve("proj");
            Children.asUser(a, "mkdir", "-p", proj.toString(), a.home().resolve(".local/bin").toString());
            // Her claude where npm puts it for one person: ~/.local/bin, on her login PATH (~/.profile); the
            // plugin's runs have her tmux server's environment, no T3_CLAUDE.
            Children.asUser(a, "cp", users.bin.resolve("claude").toString(), a.home().resolve(".local/bin/claude").toString());
            users.newSession(a, "home", a.home(), null);
            users.newSession(a, "work", proj, null);
            users.type(a, "work", users.claude());
            // A name given literally (tmux would expand #{pid} in -s otherwise): '#{', ';', quotes.
            assertTrue(inner.run("new-session", "-d", "-s", Tmux.literal(EVIL), "-x", "80", "-y", "20").ok());
            // tmux keeps the newline as the two characters \n: the name as tmux holds it is the one to find again.
            String evil = sessions(inner).stream().filter(n -> n.startsWith("evil")).findFirst().orElseThrow();
            assertTrue(Children.waitFor(() -> claudeIn(users, a, "work").isPresent(), Duration.ofSeconds(20)), "her claude started");
            String id = new Conversations(Procfs.read(), a).of(claudeIn(users, a, "work").orElseThrow()).orElseThrow().id();
            Children.Ran save = her.run("t3-save.java");
            assertEquals(0, save.exit(), save.all());
            assertTrue(inner.run("kill-session", "-t", "=work").ok());
            assertTrue(inner.run("kill-session", "-t", "=" + evil).ok(), "killed " + evil);

            inner.run("set-option", "-g", "display-time", "20000");
            var loaded = inner.run("run-shell", her.checkout.resolve("t3-tmux.tmux").toString());
            assertTrue(loaded.ok(), "the plugin loads: " + loaded.err());
            assertTrue(inner.run("list-keys", "-T", "prefix", "R").out().contains("--menu sessions"), "prefix + R is bound");

            Tmux outer = terminal(users, a, 160, 45);
            try {
                String menu = openMenu(outer);
                assertTrue(menu.contains("work  claude " + id.substring(0, 8) + " \"(started in " + proj + ")\""),
                        "the session, its assistant, conversation and first prompt: " + menu);
                assertTrue(menu.lines().anyMatch(l -> l.contains("evil#{pid}#(touch /tmp/t3-pwned-b);run-shell 'touch /tmp/t3-pwned-a' $(touch /tmp/t3-pwned-c)")
                        && l.contains("line2")),
                        "the hostile name, as text on one line: " + menu);
                assertFalse(menu.contains("home  "), "a live session is not offered: " + menu);

                // Choose the hostile one: it comes back under its own name and runs nothing.
                outer.run("send-keys", "-t", "=term:", key(menu, "evil"));
                assertTrue(Children.waitFor(() -> sessions(inner).contains(evil), Duration.ofSeconds(60)), "brought back under its name: " + sessions(inner) + screen(outer));
                Thread.sleep(500);
                for (Path p : PWNED) assertFalse(Files.exists(p), "nothing in the name ran: " + p);

                outer.run("send-keys", "-t", "=term:", "C-b", "R");
                assertTrue(Children.waitFor(() -> screen(outer).contains("t3: bring back a session") && !screen(outer).contains("evil#"), Duration.ofSeconds(60)),
                        "the menu again, without what is live now: " + screen(outer));
                String second = screen(outer);
                outer.run("send-keys", "-t", "=term:", key(second, "work"));
                assertTrue(Children.waitFor(() -> claudeIn(users, a, "work").isPresent(), Duration.ofSeconds(60)),
                        "work is back, its claude resumed: " + screen(outer) + her.run("t3-restore.java", "--dry-run", "--session", "work").all());
                Procfs.Proc resumed = claudeIn(users, a, "work").orElseThrow();
                assertEquals(id, resumed.argv().get(resumed.argv().indexOf("--resume") + 1), "resuming its own conversation");
                assertTrue(Children.waitFor(() -> screen(outer).contains("t3: brought back session 'work'"), Duration.ofSeconds(20)), screen(outer));

                // Save now: the status line says what was saved.
                outer.run("send-keys", "-t", "=term:", "C-b", "S");
                assertTrue(Children.waitFor(() -> screen(outer).contains("t3: saved 3 sessions, 1 conversations"), Duration.ofSeconds(60)), screen(outer));
            } finally {
                outer.run("kill-server");
            }
        }
    }

    /**
     * On an ordinary 80x24 terminal with more to bring back than fits, and a name longer than a
     * line: tmux 3.3a draws no menu that does not fit, so it is cut to fit, and says where the rest are.
     */
    @Test
    void theMenuFitsAnOrdinaryTerminal() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create the throwaway person who is not root; run the tests as root (CI does)");
        try (TestUsers users = new TestUsers()) {
            Person her = new Person(users);
            Accounts.Account a = her.account;
            Tmux inner = users.tmux(a);
            users.newSession(a, "home", a.home(), null);
            String longName = "a-session-whose-name-is-far-longer-than-any-line-of-an-ordinary-terminal-could-ever-hold-" + "x".repeat(40);
            List<String> gone = new java.util.ArrayList<>(List.of(longName));
            for (int i = 1; i <= 25; i++) gone.add("s" + i);
            for (String g : gone) assertTrue(inner.run("new-session", "-d", "-s", g, "-x", "80", "-y", "20").ok(), g);
            Children.Ran save = her.run("t3-save.java");
            assertEquals(0, save.exit(), save.all());
            for (String g : gone) assertTrue(inner.run("kill-session", "-t", "=" + g).ok(), g);
            assertTrue(inner.run("run-shell", her.checkout.resolve("t3-tmux.tmux").toString()).ok());
            Tmux outer = terminal(users, a, 80, 24);
            try {
                String menu = openMenu(outer);
                assertTrue(menu.contains("more: t3-restore --list, --find"), "says where the rest are: " + menu);
                assertTrue(menu.contains("a-session-whose-name-is-far-longer") && menu.contains("\u2026"), "a long line, cut: " + menu);
            } finally {
                outer.run("kill-server");
            }
        }
    }

    /** Her terminal, of this size: a client of her server's session "home", in a pane of an outer tmux of hers. */
    static Tmux terminal(TestUsers users, Accounts.Account a, int width, int height) throws InterruptedException {
        Tmux outer = new Tmux(a, users.tmuxTmp, "outer", Duration.ofSeconds(10), Duration.ofMinutes(5));
        assertTrue(outer.run("new-session", "-d", "-s", "term", "-x", Integer.toString(width), "-y", Integer.toString(height),
                "--", "env", "-u", "TMUX", "tmux", "attach", "-t", "=home").ok());
        assertTrue(Children.waitFor(() -> users.tmux(a).run("list-clients").out().contains("home"), Duration.ofSeconds(10)), "her client attached");
        return outer;
    }

    /** Presses prefix + R in her terminal and returns the screen once the menu is on it. */
    static String openMenu(Tmux outer) throws InterruptedException {
        outer.run("send-keys", "-t", "=term:", "C-b", "R");
        assertTrue(Children.waitFor(() -> screen(outer).contains("t3: bring back a session"), Duration.ofSeconds(60)), "the menu is shown: " + screen(outer));
        return screen(outer);
    }

    /** The key the menu shows for the item whose line holds {@code text}: "(k)" at its end. */
    static String key(String menu, String text) {
        for (String line : menu.split("\n")) {
            if (!line.contains(text)) continue;
            Matcher m = Pattern.compile("\\((\\w)\\)\\s*[│|]?\\s*$").matcher(line.stripTrailing());
            if (m.find()) return m.group(1);
        }
        throw new AssertionError("no item with '" + text + "' and a key in the menu:\n" + menu);
    }

    static String screen(Tmux outer) {
        String s = outer.screen("=term:");
        return s == null ? "" : s;
    }

    static Set<String> sessions(Tmux t) {
        List<Tmux.LivePane> panes = t.listPanes();
        return panes == null ? Set.of() : panes.stream().map(Tmux.LivePane::session).collect(Collectors.toSet());
    }

    static Optional<Procfs.Proc> claudeIn(TestUsers users, Accounts.Account a, String session) {
        List<Tmux.LivePane> panes = users.tmux(a).listPanes();
        if (panes == null) return Optional.empty();
        return panes.stream().filter(p -> p.session().equals(session)).findFirst()
                .flatMap(p -> new Conversations(Procfs.read(), a).claudeIn(p.pid()));
    }
}
