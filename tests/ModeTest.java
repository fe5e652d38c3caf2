import base.Accounts;
import base.Mode;
import base.Settings;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import store.Roster;
import tmux.Tmux;

/** Where things live for root and for one person, and the tmux server each looks after. */
class ModeTest {
    @Test
    void rootKeepsTheSystemsPathsAndOnePersonHerXdgFolders() {
        Mode root = Mode.of(Map.of("HOME", "/root", "XDG_STATE_HOME", "/elsewhere"), true);
        assertEquals(Path.of("/var/lib/t3-tmux-state"), root.stateDir(), "root's state dir is the system's, whatever root's XDG says");
        assertEquals(Path.of("/var/cache/t3-tmux"), root.cacheDir());
        assertEquals(Path.of("/run/t3-tmux"), root.runtimeDir());

        Mode her = Mode.of(Map.of("HOME", "/home/ann"), false);
        assertEquals(Path.of("/home/ann/.local/state/t3-tmux"), her.stateDir());
        assertEquals(Path.of("/home/ann/.cache/t3-tmux"), her.cacheDir());
        assertEquals(Path.of("/home/ann/.config/t3-tmux"), her.configDir());
        assertEquals(Path.of("/home/ann/.config/systemd/user"), install.Units.installDir(Path.of("/"), her));

        Mode moved = Mode.of(Map.of("HOME", "/home/ann", "XDG_STATE_HOME", "/data/state", "XDG_CACHE_HOME", "relative/is/ignored",
                "TMUX_TMPDIR", "/run/user/1000"), false);
        assertEquals(Path.of("/data/state/t3-tmux"), moved.stateDir());
        assertEquals(Path.of("/home/ann/.cache/t3-tmux"), moved.cacheDir(), "the XDG spec: a relative path is ignored");
        assertEquals(Path.of("/run/user/1000"), Settings.from(Map.of(), moved).tmuxTmpDir(), "her own TMUX_TMPDIR, as her tmux uses it");
        assertEquals(Path.of("/tmp"), Settings.from(Map.of(), Mode.of(Map.of("TMUX_TMPDIR", "/x"), true)).tmuxTmpDir(),
                "root's own TMUX_TMPDIR says nothing of the users' servers");
        assertEquals(Path.of("/data/state/t3-tmux"), Settings.from(Map.of(), moved).stateDir());
        assertEquals(Path.of("/set"), Settings.from(Map.of("T3_STATE_DIR", "/set"), moved).stateDir(), "the knob wins");
    }

    @Test
    void theSocketIsANameOrInSingleUserModeAPath() {
        Mode root = Mode.of(Map.of(), true), her = Mode.of(Map.of("HOME", "/home/ann"), false);
        assertEquals("default", Settings.from(Map.of(), root).tmuxSocket());
        assertEquals("work", Settings.from(Map.of("T3_TMUX_SOCKET", "work"), root).tmuxSocket());
        assertEquals("/home/ann/tmux.sock", Settings.from(Map.of("T3_TMUX_SOCKET", "/home/ann/./tmux.sock"), her).tmuxSocket());
        IllegalArgumentException forRoot = assertThrows(IllegalArgumentException.class,
                () -> Settings.from(Map.of("T3_TMUX_SOCKET", "/home/ann/tmux.sock"), root));
        assertTrue(forRoot.getMessage().contains("root looks after every user's"), forRoot.getMessage());
        for (String bad : List.of("../x", "a b", "x;y", ".hidden")) {
            assertThrows(IllegalArgumentException.class, () -> Settings.from(Map.of("T3_TMUX_SOCKET", bad), her), bad);
        }
    }

    @Test
    void onePersonLooksAfterHerselfAloneWhateverTheMapSays(@TempDir Path dir) throws Exception {
        String self = Accounts.byUid(Accounts.currentUid()).orElseThrow().name();
        Path map = java.nio.file.Files.writeString(dir.resolve("map"), "x=" + self + ":/srv/mine\ny=nobody\n");
        Settings s = Settings.from(Map.of("T3_USER_MAP", map.toString()), Mode.of(Map.of("HOME", dir.toString()), false));
        Roster.Resolution all = Roster.resolve(s, List.of(), List::of);
        assertEquals(List.of(new Roster.Entry(self, Path.of("/srv/mine"))), all.entries(), "herself, with her line's cwd");
        Roster.Resolution other = Roster.resolve(s, List.of("nobody"), List::of);
        assertTrue(other.usageError() != null && other.usageError().contains("single-user mode"), String.valueOf(other.usageError()));
    }

    /** Her settings file: T3_* lines only, quotes as systemd reads them, comments and other lines ignored. */
    @Test
    void herSettingsFileReadsAsHerUnitsReadIt(@TempDir Path dir) throws Exception {
        Path f = java.nio.file.Files.writeString(dir.resolve("env"), String.join("\n", "# mine", "T3_TMUX_TMPDIR=/run/user/1000",
                "T3_RESUME = \"lazy\"", "T3_KEEP='50'", "PATH=/evil", "not a line", ""));
        assertEquals(Map.of("T3_TMUX_TMPDIR", "/run/user/1000", "T3_RESUME", "lazy", "T3_KEEP", "50"), Settings.settingsFile(f));
        assertEquals(Map.of(), Settings.settingsFile(dir.resolve("missing")));
    }

    /** A server on a named socket (tmux -L), or on a path (tmux -S), is the one listed and driven, not the default one. */
    @Test
    void aNamedSocketIsTheServerDriven(@TempDir Path home) throws Exception {
        try (TestUsers users = new TestUsers()) {
            Accounts.Account me = TestUsers.me(home);
            Tmux named = new Tmux(me, users.tmuxTmp, "work", Duration.ofSeconds(10), Duration.ofMinutes(1));
            assertTrue(named.run("new-session", "-d", "-s", "on-work", "-x", "80", "-y", "20").ok());
            try {
                assertEquals(users.tmuxTmp.resolve("tmux-" + me.uid()).resolve("work"), named.socket());
                assertEquals(Tmux.SocketState.LIVE, named.socketState());
                assertEquals(List.of("on-work"), named.listSessions().sessions().stream().map(Tmux.Session::name).toList());
                assertEquals(Tmux.SocketState.ABSENT, users.tmux(me).socketState(), "the default socket has no server");
                assertEquals(List.of(me.uid()), Tmux.liveServers(users.tmuxTmp, "work"));
            } finally {
                named.run("kill-server");
            }
            // One person's socket by path (tmux -S), as T3_TMUX_SOCKET may give it.
            Path sock = users.dir.resolve("my.sock");
            Tmux byPath = new Tmux(me, users.tmuxTmp, sock.toString(), Duration.ofSeconds(10), Duration.ofMinutes(1));
            assertTrue(byPath.run("new-session", "-d", "-s", "on-path", "-x", "80", "-y", "20").ok());
            try {
                assertEquals(sock, byPath.socket());
                assertEquals(Tmux.SocketState.LIVE, byPath.socketState(), "the server listens on that very path");
                assertEquals(List.of("on-path"), byPath.listSessions().sessions().stream().map(Tmux.Session::name).toList());
            } finally {
                byPath.run("kill-server");
            }
        }
    }
}
