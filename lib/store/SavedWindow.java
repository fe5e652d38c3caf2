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

    public SavedWindow withPanes(List<SavedPane> panes) {
        return new SavedWindow(index, name, autoName, layout, active, zoomed, panes);
    }
}
