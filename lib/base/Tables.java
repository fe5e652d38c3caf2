package base;

import java.io.PrintStream;
import java.util.List;

/** A plain text table an operator reads at a glance: padded columns, the last one free. */
public final class Tables {
    private Tables() {}

    public static void print(PrintStream out, List<String> header, List<String[]> rows) {
        int[] width = new int[header.size()];
        for (int i = 0; i < width.length; i++) width[i] = header.get(i).length();
        for (String[] r : rows) for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], r[i].length());
        line(out, header.toArray(String[]::new), width);
        for (String[] r : rows) line(out, r, width);
        out.flush();
    }

    private static void line(PrintStream out, String[] cells, int[] width) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            b.append(i == cells.length - 1 ? cells[i] : String.format("%-" + width[i] + "s  ", cells[i]));
        }
        out.println(b.toString().stripTrailing());
    }
}
