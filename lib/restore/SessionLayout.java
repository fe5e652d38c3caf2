package restore;

import store.SavedSession;
import store.SavedWindow;
import store.SnapshotFormat;
import tmux.Tmux;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tmux commands that give a session created with its first pane the rest of what was saved:
 * its windows at their indexes with their names, each window's panes in order, each window's
 * layout; then, once every pane is known by id, the active pane of each window, the zoom, and
 * the active window. Every name, path and layout goes to tmux as an argument, never as code.
 */
public final class SessionLayout {
    private SessionLayout() {}

    /** A pane the plan wants and the live pane that became of it (null: tmux did not make it). */
    public record Made(RestorePlan.PanePlan plan, Tmux.LivePane pane) {}

    /**
     * The size a restored session is created at: its first window's saved size ("csum,WxH,..."
     * of its layout, 200x50 when it does not say), and at least the rows its biggest window needs
     * to split off every pane before its layout sets their sizes (each split leaves 3 rows: a
     * pane's line, the border, the new pane's line; see {@link #build}). Bounded by tmux's own.
     */
    public static int[] size(SavedSession row) {
        String layout = row.hasLayout() ? row.windows().get(0).layout() : "";
        Matcher m = SIZE.matcher(layout == null ? "" : layout);
        int w = 200, h = 50;
        if (m.find()) {
            w = Math.max(20, Math.min(1000, Integer.parseInt(m.group(1))));
            h = Math.max(10, Math.min(1000, Integer.parseInt(m.group(2))));
        }
        int most = row.windows().stream().mapToInt(x -> x.panes().size()).max().orElse(1);
        return new int[] {w, Math.min(10000, Math.max(h, 3 * most + 2))};
    }

    private static final Pattern SIZE = Pattern.compile("^[0-9a-f]{4},(\\d{1,5})x(\\d{1,5}),");

    /**
     * Whether {@code layout} is a tmux layout for {@code panes} panes whose checksum holds: a
     * layout that fails here is never sent (tmux would refuse it and stop the commands after it).
     */
    public static boolean valid(String layout, int panes) {
        if (layout == null || !layout.matches("[0-9a-f]{4},[0-9x,{}\\[\\]]+") || layout.length() > 8192) return false;
        String body = layout.substring(5);
        int csum = 0;
        for (char c : body.toCharArray()) {
            csum = (csum >> 1) + ((csum & 1) << 15);
            csum = (csum + c) & 0xffff;
        }
        if (!String.format("%04x", csum).equals(layout.substring(0, 4))) return false;
        // Each leaf cell is "WxH,X,Y,ID": count the pane ids the layout places.
        int leaves = 0;
        Matcher m = Pattern.compile("\\d+x\\d+,\\d+,\\d+(,\\d+)?").matcher(body);
        while (m.find()) if (m.group(1) != null) leaves++;
        return leaves == panes;
    }

    /** The panes the plan wants, grouped by saved window, in order; the first window first. */
    static Map<Integer, List<RestorePlan.PanePlan>> byWindow(RestorePlan.Step step) {
        Map<Integer, List<RestorePlan.PanePlan>> out = new LinkedHashMap<>();
        for (RestorePlan.PanePlan p : step.panes()) out.computeIfAbsent(p.pane().window(), k -> new ArrayList<>()).add(p);
        return out;
    }

    /**
     * What builds the rest of a session tmux created as {@code created} (its first window and
     * pane), one list of commands a window, each sent in a tmux call of its own so that a window
     * tmux refuses costs that window only: move the first window to its saved index, make each
     * other window, split off each other pane from the window's last one (evening the window
     * after each split, so the next split has room and the panes keep their order), then apply
     * the saved layout. {@code command} and {@code env} give each pane's argv and environment.
     */
    public static List<List<List<String>>> build(RestorePlan.Step step, Tmux.Created created, Function<RestorePlan.PanePlan, List<String>> command,
                                                 Function<RestorePlan.PanePlan, Map<String, String>> env) {
        List<List<List<String>>> calls = new ArrayList<>();
        if (!step.row().hasLayout()) return calls;
        String sid = created.sessionId();
        Map<Integer, List<RestorePlan.PanePlan>> windows = byWindow(step);
        boolean first = true;
        for (SavedWindow w : step.row().windows()) {
            List<RestorePlan.PanePlan> panes = windows.getOrDefault(w.index(), List.of());
            if (panes.isEmpty()) continue;
            String target = sid + ":" + w.index();
            List<List<String>> cmds = new ArrayList<>();
            if (first) {
                if (created.window() != w.index()) calls.add(List.of(List.of("move-window", "-s", sid + ":" + created.window(), "-t", target)));
            } else {
                List<String> head = new ArrayList<>(List.of("new-window", "-d", "-t", target));
                if (!w.autoName()) head.addAll(List.of("-n", Tmux.literal(w.name()))); // -n keeps a name as given, tab and all
                cmds.add(pane(head, panes.get(0), command, env));
            }
            first = false;
            for (RestorePlan.PanePlan p : panes.subList(1, panes.size())) {
                cmds.add(pane(List.of("split-window", "-d", "-v", "-t", target + ".{bottom-right}"), p, command, env));
                cmds.add(List.of("select-layout", "-t", target, "even-vertical"));
            }
            if (panes.size() > 1 && valid(w.layout(), panes.size())) cmds.add(List.of("select-layout", "-t", target, w.layout()));
            if (!cmds.isEmpty()) calls.add(cmds);
        }
        return calls;
    }

    /** What pane {@code p} runs and where, for the tmux command that starts it. */
    public static Tmux.PaneSpec spec(RestorePlan.PanePlan p, Function<RestorePlan.PanePlan, List<String>> command,
                                     Function<RestorePlan.PanePlan, Map<String, String>> env) {
        return new Tmux.PaneSpec(p.cwd(), env.apply(p), command.apply(p));
    }

    private static List<String> pane(List<String> head, RestorePlan.PanePlan p, Function<RestorePlan.PanePlan, List<String>> command,
                                     Function<RestorePlan.PanePlan, Map<String, String>> env) {
        return spec(p, command, env).command(head);
    }

    /**
     * Which live pane each planned pane became: in each saved window, the i-th saved pane is the
     * i-th pane tmux lists there (panes were made in order). A session without a saved layout
     * has one pane, the one tmux created.
     */
    public static List<Made> match(RestorePlan.Step step, Tmux.Created created, List<Tmux.LivePane> live) {
        List<Made> out = new ArrayList<>();
        if (step.panes().size() == 1) { // no listing needed: the pane is the one tmux created
            out.add(new Made(step.panes().get(0), first(created)));
            return out;
        }
        int firstWindow = step.row().windows().get(0).index();
        byWindow(step).forEach((window, panes) -> {
            List<Tmux.LivePane> there = live.stream().filter(l -> l.sessionId().equals(created.sessionId()) && l.window() == window).toList();
            for (int i = 0; i < panes.size(); i++) {
                Tmux.LivePane made = i < there.size() ? there.get(i) : null;
                // Without a listing (tmux stopped answering), the pane tmux created is still known.
                if (made == null && i == 0 && window == firstWindow && live.isEmpty()) made = first(created);
                out.add(new Made(panes.get(i), made));
            }
        });
        return out;
    }

    /** The pane new-session made, as a listing would give it. */
    private static Tmux.LivePane first(Tmux.Created created) {
        return Tmux.LivePane.made(created.sessionId(), created.window(), created.paneId(), created.panePid());
    }

    /** The active pane of each window (zoomed where it was), then the active window, by the ids tmux gave. */
    public static List<List<String>> focus(RestorePlan.Step step, Tmux.Created created, List<Made> made) {
        List<List<String>> cmds = new ArrayList<>();
        if (!step.row().hasLayout() || made.size() < 2) return cmds; // one pane: tmux has it in focus already
        String activeWindow = null;
        for (SavedWindow w : step.row().windows()) {
            Made active = made.stream().filter(m -> m.plan().pane().window() == w.index() && m.plan().pane().active() && m.pane() != null)
                    .findFirst().orElse(null);
            if (active != null) {
                cmds.add(List.of("select-pane", "-t", active.pane().id()));
                if (w.zoomed() && made.stream().filter(m -> m.plan().pane().window() == w.index()).count() > 1) {
                    cmds.add(List.of("resize-pane", "-Z", "-t", active.pane().id()));
                }
            }
            if (w.active()) activeWindow = created.sessionId() + ":" + w.index();
        }
        if (activeWindow != null) cmds.add(List.of("select-window", "-t", activeWindow));
        return cmds;
    }

}
