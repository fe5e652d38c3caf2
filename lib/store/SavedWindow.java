package store;

import java.util.List;

/**
 * One window: its index, name, whether tmux names it after its program (automatic-rename:
 * then the name is not given back, tmux names it again), layout ({@code #{window_layout}}),
 * whether active or zoomed, and its panes in order.
 */
public record SavedWindow(int index, String name, boolean autoName, String layout, boolean active, boolean zoomed, List<SavedPane> panes) {
    public SavedWindow {
        panes = List.copyOf(panes);
    }

    public SavedWindow(int index, String name, String layout, boolean active, boolean zoomed, List<SavedPane> panes) {
        this(index, name, false, layout, active, zoomed, panes);
    }

    /**
     * Window {@code index}, unnamed, no layout known, not active, no panes: the start of a named
     * construction, {@code SavedWindow.at(1).named("ed").active(true).panes(List.of(pane))}.
     */
    public static SavedWindow at(int index) {
        return new SavedWindow(index, "", false, "", false, false, List.of());
    }

    /** The name tmux holds for it, given with -n (not after its program). */
    public SavedWindow named(String name) { return new SavedWindow(index, name, false, layout, active, zoomed, panes); }

    /** Named by tmux after its program (automatic-rename): {@code name} is what it showed, not given back. */
    public SavedWindow autoNamed(String name) { return new SavedWindow(index, name, true, layout, active, zoomed, panes); }

    public SavedWindow layout(String layout) { return new SavedWindow(index, name, autoName, layout, active, zoomed, panes); }

    public SavedWindow active(boolean active) { return new SavedWindow(index, name, autoName, layout, active, zoomed, panes); }

    public SavedWindow zoomed(boolean zoomed) { return new SavedWindow(index, name, autoName, layout, active, zoomed, panes); }

    /** The same window at another index (its panes' own places are theirs to move). */
    public SavedWindow moved(int index) { return new SavedWindow(index, name, autoName, layout, active, zoomed, panes); }

    public SavedWindow withPanes(List<SavedPane> panes) {
        return new SavedWindow(index, name, autoName, layout, active, zoomed, panes);
    }
}
