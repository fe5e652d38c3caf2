import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.NotRunning;
import claude.ClaudeOptions;
import restore.MissingPanes;
import save.Programs;
import restore.RestorePlan;
import restore.SessionLayout;
import base.Settings;
import store.SnapshotFormat;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Windows and panes in the snapshot format, the tmux commands that rebuild them, and what is carried. */
class LayoutFormatTest {
    static final String A = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a", B = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    // What tmux 3.3a printed for a 120x40 window split in three (see the test of a whole session).
    static final String LAYOUT = "95e4,120x40,0,0{60x40,0,0,0,59x40,61,0[59x20,61,0,1,59x19,61,21,2]}";

    static SavedPane pane(int w, int i, boolean active, String id, List<String> program) {
        return id == null ? SavedPane.shell(w, i, active, "/p " + w + i, program)
                : SavedPane.at(w, i).active(active).cwd("/p " + w + i).conversation(id, "/start", "/cfg\tx").options(List.of("--model", "opus"));
    }

    static SavedSession hostileRow() {
        return SavedSession.of("s\tx #{pid}", List.of(
                new SavedWindow(0, "edit", "", false, false, List.of(pane(0, 0, true, A, List.of()))),
                new SavedWindow(2, "tab\\there #h ;", LAYOUT, true, true, List.of(
                        pane(2, 0, false, null, List.of("less", "a\nb\tc \"d\" $(touch /x) `id` ;")),
                        pane(2, 1, true, B, List.of()),
                        pane(2, 2, false, null, List.of())))));
    }

    @Test
    void windowsAndPanesRoundTripWithHostileFields() {
        SavedSession r = hostileRow();
        String text = SnapshotFormat.format(List.of(r));
        assertEquals(1 + 1 + 2 + 4, text.split("\n").length, "header, session, two windows, four panes: one line each");
        SnapshotFormat.Parsed p = SnapshotFormat.parse(text);
        assertEquals(List.of(), p.problems());
        assertEquals(List.of(r), p.rows());
        assertTrue(text.lines().skip(2).allMatch(l -> l.startsWith("\twindow\t") || l.startsWith("\tpane\t")), text);
    }

    @Test
    void theSessionLineSumsUpItsActivePaneAndMainConversation() {
        SavedSession r = hostileRow();
        assertEquals("/p 21", r.cwd(), "the active window's active pane");
        assertEquals(B, r.conversation(), "the active pane runs one: that is the session's");
        assertEquals(List.of(A, B), r.conversations().stream().map(SavedPane::conversation).toList());
        SavedSession elsewhere = SavedSession.of("x", List.of(new SavedWindow(0, "w", "", true, false,
                List.of(pane(0, 0, true, null, List.of()), pane(0, 1, false, A, List.of())))));
        assertEquals(A, elsewhere.conversation(), "else the first pane that runs one");
        assertEquals("/p 00", elsewhere.cwd());
        SavedSession marked = r.withNotRunning(NotRunning.exited("x"));
        assertEquals(NotRunning.exited("x"), marked.panes().get(2).notRunning(), "the mark goes on the pane that runs it");
        assertNull(marked.panes().get(0).notRunning(), "and only there");
    }

    @Test
    void aBadPaneLineCostsThatPaneAndABadWindowItsPanes() {
        String text = SnapshotFormat.format(List.of(hostileRow()));
        List<String> lines = new java.util.ArrayList<>(text.lines().toList());
        lines.set(5, lines.get(5).replace("\tpane\t2.0\t", "\tpane\t9.0\t")); // a pane claiming another window
        SnapshotFormat.Parsed p = SnapshotFormat.parse(String.join("\n", lines));
        assertEquals(1, p.problems().size(), p.problems().toString());
        assertEquals(3, p.rows().get(0).panes().size(), "the other panes stay");

        lines = new java.util.ArrayList<>(text.lines().toList());
        lines.set(4, "\twindow\tnot-a-number\t-\tw\t-");
        p = SnapshotFormat.parse(String.join("\n", lines) + "\nnext\t/n\t-\t-\t-\t-\n");
        assertEquals(List.of(A), p.rows().get(0).conversations().stream().map(SavedPane::conversation).toList(), "window 0 stays");
        assertEquals(List.of("s\tx #{pid}", "next"), p.rows().stream().map(SavedSession::session).toList());
        assertEquals(4, p.problems().size(), "the window line and each of its three panes: " + p.problems());

        p = SnapshotFormat.parse("\tpane\t0.0\t-\t/\t-\t-\t-\t-\t-\t-\nok\t/\t-\n");
        assertEquals(List.of("ok"), p.rows().stream().map(SavedSession::session).toList(), "a pane line before any session is a problem, not a session");
        p = SnapshotFormat.parse("s\t/\t-\n\twindow\t0\tactive\tw\t-\n\tpane\t0.0\t-\t/\t-\t-\t-\t-\t[1,2]\t-\n");
        assertEquals(List.of(), p.rows().get(0).windows(), "a window without a readable pane is left out; the session line stays");
        assertEquals(2, p.problems().size(), p.problems().toString());
    }

    @Test
    void onlyAWellFormedLayoutForThePanesIsEverSentToTmux() {
        assertTrue(SessionLayout.valid(LAYOUT, 3));
        assertFalse(SessionLayout.valid(LAYOUT, 2), "a layout for three panes does not fit two");
        assertFalse(SessionLayout.valid("0000" + LAYOUT.substring(4), 3), "a wrong checksum");
        assertFalse(SessionLayout.valid(LAYOUT + " ; kill-server", 3));
        assertFalse(SessionLayout.valid("", 1));
        assertArrayEquals(new int[] {120, 40}, SessionLayout.size(withLayout(LAYOUT, 3)));
        assertArrayEquals(new int[] {200, 50}, SessionLayout.size(withLayout("junk", 1)));
        assertArrayEquals(new int[] {1000, 1000}, SessionLayout.size(withLayout("95e4,99999x99999,0,0,1", 1)), "a size is bounded");
        assertArrayEquals(new int[] {120, 3 * 30 + 2}, SessionLayout.size(withLayout(LAYOUT, 30)), "room to split 30 panes");
    }

    static SavedSession withLayout(String layout, int panes) {
        List<SavedPane> ps = new java.util.ArrayList<>();
        for (int i = 0; i < panes; i++) ps.add(pane(0, i, i == 0, null, List.of()));
        return SavedSession.of("x", List.of(new SavedWindow(0, "w", layout, true, false, ps)));
    }

    @Test
    void theRebuildIsArgvOnlyInOrderAWindowACallAndMovesTheFirstWindowOnlyWhenItMust() {
        SavedSession r = hostileRow();
        List<RestorePlan.PanePlan> plans = r.panes().stream()
                .map(p -> new RestorePlan.PanePlan(p, RestorePlan.Action.SHELL, "", Path.of(p.cwd()), null, null, null, null)).toList();
        RestorePlan.Step step = new RestorePlan.Step(r, RestorePlan.State.MISSING, RestorePlan.Action.SHELL, "", Path.of("/"), plans);
        List<List<List<String>>> calls = SessionLayout.build(step, new Tmux.Created("$7", 1, "%1", 100, r.session()),
                p -> List.of("cmd", p.pane().cwd()), p -> Map.of());
        assertEquals(List.of(List.of("move-window", "-s", "$7:1", "-t", "$7:0")), calls.get(0), "created at base-index 1, saved at 0");
        List<List<String>> cmds = calls.get(1);
        assertEquals(List.of("new-window", "-d", "-t", "$7:2", "-n", "tab\\there ##h ;", "-c", "/p 20", "--", "cmd", "/p 20"), cmds.get(0),
                "the name as tmux held it, '#' kept literal, one argument each");
        assertEquals(List.of("split-window", "-d", "-v", "-t", "$7:2.{bottom-right}", "-c", "/p 21", "--", "cmd", "/p 21"), cmds.get(1));
        assertEquals(List.of("select-layout", "-t", "$7:2", "even-vertical"), cmds.get(2), "room for the next split");
        assertEquals("/p 22", cmds.get(3).get(cmds.get(3).size() - 1), "panes in their saved order");
        assertEquals(List.of("select-layout", "-t", "$7:2", LAYOUT), cmds.get(5), "the saved layout last");
        assertEquals(6, cmds.size());
        assertEquals(2, calls.size(), "one call a window");
        assertEquals(1, SessionLayout.build(step, new Tmux.Created("$7", 0, "%1", 100, r.session()), p -> List.of("x"), p -> Map.of()).size(),
                "already at its index: not moved");
        SavedSession auto = SavedSession.of("a", List.of(r.windows().get(0), new SavedWindow(2, "bash", true, "", false, false,
                List.of(pane(2, 0, true, null, List.of())))));
        List<RestorePlan.PanePlan> autoPlans = auto.panes().stream()
                .map(p -> new RestorePlan.PanePlan(p, RestorePlan.Action.SHELL, "", Path.of(p.cwd()), null, null, null, null)).toList();
        List<String> made = SessionLayout.build(new RestorePlan.Step(auto, RestorePlan.State.MISSING, RestorePlan.Action.SHELL, "", Path.of("/"), autoPlans),
                new Tmux.Created("$7", 0, "%1", 100, "a"), p -> List.of("x"), p -> Map.of()).get(0).get(0);
        assertFalse(made.contains("-n"), "a window tmux names after its program is not given a name: " + made);
    }

    @Test
    void aPaneHealMakesAgainLeavesTheOthersKeptAsideWhereNoWindowIs() {
        SavedPane a = pane(1, 0, true, A, List.of()).withNotRunning(NotRunning.NOT_RECREATED);
        SavedPane b = pane(1, 1, false, B, List.of()).withNotRunning(NotRunning.NOT_RECREATED);
        SavedSession row = SavedSession.of("s", List.of(new SavedWindow(0, "w", "", true, false, List.of(pane(0, 0, true, null, List.of()))),
                new SavedWindow(1, "not recreated", "", false, false, List.of(a, b))));
        // tmux gave the new window index 1, where the panes kept aside were.
        SavedPane made = SavedPane.at(1, 0).active(true).cwd("/p").conversation(A, "/start", null).tmuxPane("%4@100");
        SavedSession after = MissingPanes.moved(row, a, made);
        assertEquals(List.of(0, 1, 2), after.windows().stream().map(SavedWindow::index).toList(), after.toString());
        assertEquals(made, after.windows().get(1).panes().get(0));
        assertEquals(B, after.windows().get(2).panes().get(0).conversation(), "the other moved past it, not lost");
        assertEquals(2, after.windows().get(2).panes().get(0).window());
        assertEquals(List.of(after), SnapshotFormat.parse(SnapshotFormat.format(List.of(after))).rows(), "and it reads back whole");
    }

    @Test
    void onlyAllowlistedLaunchOptionsAreCarried() {
        assertEquals(List.of("--model", "opus", "--permission-mode", "plan", "--add-dir", "/a", "/b", "--append-system-prompt", "be brief"),
                ClaudeOptions.carried(List.of("claude", "--model", "opus", "--dangerously-skip-permissions", "--permission-mode=plan",
                        "--add-dir", "/a", "/b", "--verbose", "--append-system-prompt", "be brief", "--resume", A, "fix it")));
        assertEquals(List.of(), ClaudeOptions.carried(List.of("claude", "--model")), "an option without its value is not carried");
        assertEquals(List.of(), ClaudeOptions.carried(List.of("claude", "--model", "--resume", A)));
        assertEquals(List.of(), ClaudeOptions.carried(List.of("claude", "--model=")));
        assertEquals(List.of("--model", "x"), ClaudeOptions.carried(List.of("node", "/usr/lib/claude/cli.js", "--model", "x", "--", "--model", "y")),
                "after '--' is a prompt");
        assertEquals(List.of(), ClaudeOptions.carried(List.of("claude", "--mcp-config", "/x.json", "--settings", "/s", "-p", "hi")));
        assertEquals(List.of("--model", "m"), ClaudeOptions.carried(List.of("claude", "--append-system-prompt", "x".repeat(5000), "--model", "m")),
                "a huge value is left behind, the rest carried");
    }

    @Test
    void aProgramIsNamedByItsLastPathPart() {
        assertEquals("vim", Programs.name("/usr/bin/vim"));
        assertEquals("less", Programs.name("less"));
        assertEquals("bash", Programs.name("-bash"));
        assertEquals("", Programs.name(""));
    }

    @Test
    void theProgramListIsNamesOnly() {
        assertEquals(List.of("vim", "less"), Settings.from(Map.of("T3_RESTORE_PROGRAMS", " vim  less ")).programs());
        assertEquals(List.of(), Settings.from(Map.of("T3_RESTORE_PROGRAMS", "")).programs(), "set but empty: no program comes back");
        assertTrue(Settings.from(Map.of()).programs().containsAll(List.of("vim", "nvim", "less", "man", "htop", "top", "tail")));
        assertFalse(Settings.from(Map.of()).programs().contains("watch"), "watch runs its argument as a shell command: not by default");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.from(Map.of("T3_RESTORE_PROGRAMS", "vim /bin/sh")));
        assertTrue(e.getMessage().contains("T3_RESTORE_PROGRAMS"), e.getMessage());
        assertFalse(Settings.from(Map.of()).scrollback().on(), "scrollback is off by default");
        assertEquals(16 << 10, Settings.from(Map.of("T3_SCROLLBACK", "10", "T3_SCROLLBACK_MAX", "16")).scrollback().paneBytes());
    }
}
