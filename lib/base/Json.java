package base;

//DEPS com.fasterxml.jackson.core:jackson-databind:2.18.2

import com.fasterxml.jackson.databind.ObjectMapper;

/** The one JSON mapper (Jackson's is thread-safe once configured): records, ledgers and plans read and write through it. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}
}
