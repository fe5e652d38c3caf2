import store.NotRunning;
import store.SavedSession;
import store.SnapshotFormat;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SnapshotFormatTest {
    static final String ID = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a";

    @Test
    void roundTripsHostileFields() {
        List<SavedSession> rows = List.of(
                new SavedSession("tab\there", "/home/a/new\nline", ID, "/back\\slash\\t", "/cr\rhere"),
                new SavedSession("ünïcødé ✓ 日本", "", null, null, null),
                new SavedSession("#not-a-comment", "/x", null, "/y", null),
                new SavedSession("-", "-x", ID, null, null, NotRunning.of("claude died\tat 3 a.m.\n")),
                new SavedSession("a'b \"c\" $(touch /tmp/x) `id`", "/p q", null, null, null));
        String text = SnapshotFormat.format(rows);
        assertEquals(rows.size() + 1, text.split("\n").length, "one line per row plus the header");
        for (String line : text.split("\n")) if (!line.startsWith("#")) assertEquals(6, line.split("\t", -1).length, line);
        assertEquals(rows, SnapshotFormat.parse(text).rows());
        assertEquals(List.of(), SnapshotFormat.parse(text).problems());
    }

    @Test
    void escapesExactlyTheFourCharacters() {
        assertEquals("a\\tb\\nc\\rd\\\\e", SnapshotFormat.escape("a\tb\nc\rd\\e"));
        assertEquals("a\tb\nc\rd\\e", SnapshotFormat.unescape("a\\tb\\nc\\rd\\\\e"));
    }

    @Test
    void readsTheFiveAndThreeColumnForms() {
        SnapshotFormat.Parsed p = SnapshotFormat.parse("work\t/home/a/w\t" + ID + "\nshell\t/home/a\t\nother\t/tmp\t-\n"
                + "five\t/f\t" + ID + "\t/start\t/cfg\n");
        assertEquals(List.of(
                new SavedSession("work", "/home/a/w", ID, null, null),
                new SavedSession("shell", "/home/a", null, null, null),
                new SavedSession("other", "/tmp", null, null, null),
                new SavedSession("five", "/f", ID, "/start", "/cfg")), p.rows());
        assertTrue(p.rows().stream().allMatch(r -> r.notRunning() == null), "older forms: every conversation was running");
    }

    @Test
    void aNotRunningMarkIsKeptOnlyWithAConversation() {
        SnapshotFormat.Parsed p = SnapshotFormat.parse("a\t/\t" + ID + "\t/\t-\tclaude killed\nb\t/\t-\t-\t-\tstray mark\n");
        assertEquals(NotRunning.of("claude killed"), p.rows().get(0).notRunning(), "a reason of no kind we know is kept as it is");
        assertFalse(p.rows().get(0).running());
        assertNull(p.rows().get(1).notRunning());
    }

    @Test
    void reportsMalformedRowsByLineAndKeepsTheRest() {
        SnapshotFormat.Parsed p = SnapshotFormat.parse(SnapshotFormat.HEADER + "\ngood\t/a\t-\nonly-two\t/b\n\t/c\t-\nbad-id\t/d\t$(rm -rf ~)\nalso-good\t/e\t" + ID + "\n");
        assertEquals(List.of("good", "also-good"), p.rows().stream().map(SavedSession::session).toList());
        assertEquals(List.of(3, 4, 5), p.problems().stream().map(SnapshotFormat.Problem::line).toList());
    }

    @Test
    void aNulOrABadByteCostsItsRowOnly() {
        byte[] good = ("ok\t/a\t" + ID + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] raw = new byte[good.length * 2 + 20];
        int n = 0;
        for (byte b : "nul\t/a\0b\t-\n".getBytes(StandardCharsets.UTF_8)) raw[n++] = b;
        for (byte b : "bad\t/\u00e9".getBytes(StandardCharsets.ISO_8859_1)) raw[n++] = b; // Latin-1 é: not UTF-8
        raw[n++] = '\t'; raw[n++] = '-'; raw[n++] = '\n';
        for (byte b : good) raw[n++] = b;
        SnapshotFormat.Parsed p = SnapshotFormat.parse(java.util.Arrays.copyOf(raw, n));
        assertEquals(List.of("ok"), p.rows().stream().map(SavedSession::session).toList());
        assertEquals(List.of(1, 2), p.problems().stream().map(SnapshotFormat.Problem::line).toList());
    }
}
