import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotsTest {
    static final String ID = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a";

    @Test
    void roundTripsHostileFields() {
        List<Snapshots.Row> rows = List.of(
                new Snapshots.Row("tab\there", "/home/a/new\nline", ID, "/back\\slash\\t", "/cr\rhere"),
                new Snapshots.Row("ünïcødé ✓ 日本", "", null, null, null),
                new Snapshots.Row("#not-a-comment", "/x", null, "/y", null),
                new Snapshots.Row("-", "-x", ID, null, null),
                new Snapshots.Row("a'b \"c\" $(touch /tmp/x) `id`", "/p q", null, null, null));
        String text = Snapshots.format(rows);
        assertEquals(rows.size() + 1, text.split("\n").length, "one line per row plus the header");
        for (String line : text.split("\n")) if (!line.startsWith("#")) assertEquals(5, line.split("\t", -1).length, line);
        assertEquals(rows, Snapshots.parse(text).rows());
        assertEquals(List.of(), Snapshots.parse(text).problems());
    }

    @Test
    void escapesExactlyTheFourCharacters() {
        assertEquals("a\\tb\\nc\\rd\\\\e", Snapshots.escape("a\tb\nc\rd\\e"));
        assertEquals("a\tb\nc\rd\\e", Snapshots.unescape("a\\tb\\nc\\rd\\\\e"));
    }

    @Test
    void readsTheLegacyThreeColumnForm() {
        Snapshots.Parsed p = Snapshots.parse("work\t/home/a/w\t" + ID + "\nshell\t/home/a\t\nother\t/tmp\t-\n");
        assertEquals(List.of(
                new Snapshots.Row("work", "/home/a/w", ID, null, null),
                new Snapshots.Row("shell", "/home/a", null, null, null),
                new Snapshots.Row("other", "/tmp", null, null, null)), p.rows());
    }

    @Test
    void reportsMalformedRowsByLineAndKeepsTheRest() {
        Snapshots.Parsed p = Snapshots.parse(Snapshots.HEADER + "\ngood\t/a\t-\nonly-two\t/b\n\t/c\t-\nbad-id\t/d\tnot-a-uuid\nalso-good\t/e\t" + ID + "\n");
        assertEquals(List.of("good", "also-good"), p.rows().stream().map(Snapshots.Row::session).toList());
        assertEquals(List.of(3, 4, 5), p.problems().stream().map(Roster.Problem::line).toList());
    }

    @Test
    void writesAtomicallyWithRootOnlyModes(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("state");
        Snapshots.prepareStateDir(state);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
        Snapshots.write(state, "alice", List.of(new Snapshots.Row("s", "/", ID, "/", null)));
        Snapshots.write(state, "alice", List.of(new Snapshots.Row("t", "/", null, null, null)));
        Path f = state.resolve("alice.tsv");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(List.of("t"), Snapshots.read(state, "alice").rows().stream().map(Snapshots.Row::session).toList());
        try (var files = Files.list(state)) {
            assertEquals(List.of(f), files.toList(), "no temp file left behind");
        }
    }

    @Test
    void tightensALooseStateDirAndRefusesASymlink(@TempDir Path tmp) throws Exception {
        Path loose = Files.createDirectory(tmp.resolve("loose"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Snapshots.prepareStateDir(loose);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(loose)));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), loose);
        assertThrows(java.io.IOException.class, () -> Snapshots.prepareStateDir(link));
    }

    @Test
    void pendingRowsLastUntilARestoreBringsThemBack(@TempDir Path state) throws Exception {
        Snapshots.Row a = new Snapshots.Row("a", "/", ID, "/", null), b = new Snapshots.Row("b", "/", null, null, null);
        Snapshots.recordPending(state, "u", List.of(a, b), List.of(a));
        assertEquals(List.of(a), Snapshots.readPending(state, "u"));
        Snapshots.recordPending(state, "u", List.of(b), List.of()); // a --session b run leaves a owed
        assertEquals(List.of(a), Snapshots.readPending(state, "u"));
        assertEquals(new Snapshots.WithPending(List.of(b, a), List.of(a)), Snapshots.withPending(state, "u", List.of(b)));
        assertEquals(new Snapshots.WithPending(List.of(a), List.of()), Snapshots.withPending(state, "u", List.of(a)), "live again: not owed twice");
        Snapshots.recordPending(state, "u", List.of(a), List.of());
        assertFalse(Files.exists(Snapshots.pendingFile(state, "u")), "nothing owed: no record");
    }
}
