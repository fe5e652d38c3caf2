import base.Accounts;
import store.Roster;
import base.Settings;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RosterTest {
    @Test
    void parsesEntriesCommentsAndCwdSuffix() {
        Roster.Parsed p = Roster.parse("""
                # who may log in
                alice@example.com=alice

                  bob = bob:/srv/bob work  
                carol=carol:/home/carol # not a comment, part of the path
                """);
        assertEquals(List.of(
                new Roster.Entry("alice", null),
                new Roster.Entry("bob", Path.of("/srv/bob work")),
                new Roster.Entry("carol", Path.of("/home/carol # not a comment, part of the path"))), p.entries());
        assertEquals(List.of(), p.problems());
    }

    @Test
    void rejectsBadNamesWithTheirLineNumbers() {
        Roster.Parsed p = Roster.parse("a=-rf\nb=al ice\nc=x/y\nd=$(id)\nnoequals\n=alice\ne=ok:relative/dir\nf=good\n");
        assertEquals(List.of(new Roster.Entry("good", null)), p.entries());
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), p.problems().stream().map(Roster.Problem::line).toList());
        assertTrue(p.problems().get(0).text().contains("-rf"), p.problems().get(0).text());
    }

    @Test
    void foldsDuplicatesKeepingTheFirst() {
        Roster.Parsed p = Roster.parse("a=alice:/one\nb=alice:/two\nc=bob\n");
        assertEquals(List.of(new Roster.Entry("alice", Path.of("/one")), new Roster.Entry("bob", null)), p.entries());
    }

    @Test
    void missingMapIsEmptyNotAnError(@TempDir Path dir) throws Exception {
        assertTrue(Roster.read(dir.resolve("absent")).isEmpty());
        Files.writeString(dir.resolve("map"), "x=root\n");
        assertEquals(List.of(new Roster.Entry("root", null)), Roster.read(dir.resolve("map")).orElseThrow().entries());
    }

    @Test
    void unknownUserAskedForIsAUsageError(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("map"), "x=root\n");
        Settings s = Settings.from(java.util.Map.of("T3_USER_MAP", dir.resolve("map").toString()));
        assertNotNull(Roster.resolve(s, List.of("t3-no-such-user"), List::of).usageError());
        assertNotNull(Roster.resolve(s, List.of("bad name"), List::of).usageError());
        assertEquals(List.of("root"), Roster.resolve(s, List.of(), List::of).entries().stream().map(Roster.Entry::user).toList());
    }

    @Test
    void discoversLiveServersButNotStaleSockets(@TempDir Path tmp) throws Exception {
        Accounts.Account me = Accounts.byUid(Accounts.currentUid()).orElseThrow();
        Tmux tmux = new Tmux(me, tmp, java.time.Duration.ofSeconds(5));
        assertEquals(List.of(), Roster.discoverLiveServers(tmp), "no server yet");
        assertTrue(tmux.run("new-session", "-d", "-s", "x").ok());
        try {
            assertEquals(List.of(new Roster.Entry(me.name(), null)), Roster.discoverLiveServers(tmp));
            String pid = tmux.run("display-message", "-p", "-t", "=x:", "#{pid}").out().strip();
            Children.check("kill", "-KILL", pid);
            assertTrue(Children.waitFor(() -> tmux.socketState() == Tmux.SocketState.STALE, java.time.Duration.ofSeconds(5)));
            assertTrue(Files.exists(tmux.socket()), "the socket outlives its server");
            assertEquals(List.of(), Roster.discoverLiveServers(tmp), "a stale socket is no live server");
        } finally {
            tmux.run("kill-server");
        }
    }
}
