import java.nio.file.Path;
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

    /** The size of the window a layout was saved in ("csum,WxH,..."), or 200x50 when it does not say. */
    public static int[] size(String layout) {
        Matcher m = SIZE.matcher(layout == null ? "" : layout);
        if (!m.find()) return new int[] {200, 50};
        return new int[] {Math.max(20, Math.min(1000, Integer.parseInt(m.group(1)))), Math.max(10, Math.min(1000, Integer.parseInt(m.group(2))))};
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
     * pane): move that window to its saved index, the other windows, the other panes (each split
     * off the window's last pane so they keep their order), then each window's layout.
     * {@code command} and {@code env} give each pane's argv and environment.
     */
    public static List<List<String>> build(RestorePlan.Step step, Tmux.Created created, Function<RestorePlan.PanePlan, List<String>> command,
                                           Function<RestorePlan.PanePlan, Map<String, String>> env) {
        List<List<String>> cmds = new ArrayList<>();
        if (!step.row().hasLayout()) return cmds;
        String sid = created.sessionId();
        Map<Integer, List<RestorePlan.PanePlan>> windows = byWindow(step);
        boolean first = true;
        for (SnapshotFormat.Window w : step.row().windows()) {
            List<RestorePlan.PanePlan> panes = windows.getOrDefault(w.index(), List.of());
            if (panes.isEmpty()) continue;
            String target = sid + ":" + w.index();
            if (first) {
                if (created.window() != w.index()) cmds.add(List.of("move-window", "-s", sid + ":" + created.window(), "-t", target));
            } else {
                cmds.add(pane(List.of("new-window", "-d", "-t", target, "-n", Tmux.literal(Tmux.creationName(w.name()))), panes.get(0), command, env));
            }
            first = false;
            for (RestorePlan.PanePlan p : panes.subList(1, panes.size())) {
                // 90% to the new pane: the next split, off it, has room; the layout sets every size after.
                cmds.add(pane(List.of("split-window", "-d", "-v", "-l", "90%", "-t", target + ".{bottom-right}"), p, command, env));
            }
            if (panes.size() > 1 && valid(w.layout(), panes.size())) cmds.add(List.of("select-layout", "-t", target, w.layout()));
        }
        return cmds;
    }

    private static List<String> pane(List<String> head, RestorePlan.PanePlan p, Function<RestorePlan.PanePlan, List<String>> command,
                                     Function<RestorePlan.PanePlan, Map<String, String>> env) {
        List<String> args = new ArrayList<>(head);
        args.addAll(List.of("-c", Tmux.literal(p.cwd().toString())));
        env.apply(p).forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
        args.add("--");
        args.addAll(command.apply(p));
        return args;
    }

    /**
     * Which live pane each planned pane became: in each saved window, the i-th saved pane is the
     * i-th pane tmux lists there (panes were made in order). A session without a saved layout
     * has one pane, the one tmux created.
     */
    public static List<Made> match(RestorePlan.Step step, Tmux.Created created, List<Tmux.LivePane> live) {
        List<Made> out = new ArrayList<>();
        if (step.panes().size() == 1) { // no listing needed: the pane is the one tmux created
            Tmux.LivePane first = new Tmux.LivePane(created.sessionId(), created.window(), "", "", true, false, 0, created.paneId(), created.panePid(), true);
            for (RestorePlan.PanePlan p : step.panes()) out.add(new Made(p, first));
            return out;
        }
        byWindow(step).forEach((window, panes) -> {
            List<Tmux.LivePane> there = live.stream().filter(l -> l.sessionId().equals(created.sessionId()) && l.window() == window).toList();
            for (int i = 0; i < panes.size(); i++) out.add(new Made(panes.get(i), i < there.size() ? there.get(i) : null));
        });
        return out;
    }

    /** The active pane of each window (zoomed where it was), then the active window, by the ids tmux gave. */
    public static List<List<String>> focus(RestorePlan.Step step, Tmux.Created created, List<Made> made) {
        List<List<String>> cmds = new ArrayList<>();
        if (!step.row().hasLayout() || made.size() < 2) return cmds; // one pane: tmux has it in focus already
        String activeWindow = null;
        for (SnapshotFormat.Window w : step.row().windows()) {
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

    /** The cwd a session's first pane starts in (the rest are given their own). */
    static Path firstCwd(RestorePlan.Step step) {
        return step.panes().get(0).cwd();
    }
}
