// pgjdbc against a running tsgres: metadata, a PreparedStatement past prepareThreshold (server-prepared,
// binary results), exact values of timestamptz, float8, int8, text, varchar and boolean columns.
//
// Run by tests/compat/pg/test_jdbc.py: javac JdbcCheck.java && java -cp .:postgresql.jar JdbcCheck URL
// The tables `readings` (rows of test_jdbc.py's ROWS) and `jdbc_batch` (empty) must exist. Prints "ok <check>"
// per passed check and "FAIL <check>: ..." per failed one; exits 1 when anything failed.

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

import org.postgresql.PGStatement;

public class JdbcCheck {
    private static int failures = 0;

    private static void check(String name, Object expected, Object actual) {
        if (Objects.equals(expected, actual)) {
            System.out.println("ok " + name);
        } else {
            failures++;
            System.out.println("FAIL " + name + ": expected <" + expected + "> got <" + actual + ">");
        }
    }

    // The rows the Python side inserted, in time order.
    static final Instant[] TIMES = {
        Instant.parse("2024-03-01T12:00:00.123456Z"),
        Instant.parse("2024-03-01T12:00:01Z"),
        Instant.parse("2024-03-01T12:00:02Z"),
    };
    static final String[] DEVICES = {"d1", "d2", "d1"};
    static final double[] READINGS = {21.5, -0.1, 1e300};
    static final long[] SEQS = {1L, 9007199254740993L, -5L};
    static final String[] LABELS = {"first", "zwei \u00fc", null};
    static final Boolean[] OKS = {true, false, null};

    public static void main(String[] args) throws Exception {
        String url = args[0];
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("password", "unused");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            check("server product", "PostgreSQL", conn.getMetaData().getDatabaseProductName());
            check("server major version", 15, conn.getMetaData().getDatabaseMajorVersion());
            metadata(conn);
            preparedPastThreshold(conn, "default");
            batchInsertAndReadBack(conn);
        }
        // prepareThreshold=-1: binary transfer from the first execution ("forceBinary")
        props.setProperty("prepareThreshold", "-1");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            preparedPastThreshold(conn, "forced-binary");
        }
        System.out.println(failures == 0 ? "ALL OK" : failures + " FAILED");
        System.exit(failures == 0 ? 0 : 1);
    }

    static void metadata(Connection conn) throws Exception {
        DatabaseMetaData md = conn.getMetaData();
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                tables.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
            }
        }
        check("getTables", List.of("public.jdbc_batch:TABLE", "public.readings:TABLE"), tables);

        List<String> columns = new ArrayList<>();
        try (ResultSet rs = md.getColumns(null, "public", "readings", "%")) {
            while (rs.next()) {
                columns.add(rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " "
                    + rs.getString("TYPE_NAME") + " " + rs.getInt("DATA_TYPE") + " " + rs.getInt("COLUMN_SIZE")
                    + " " + rs.getString("IS_NULLABLE"));
            }
        }
        check("getColumns", List.of(
            "1 time timestamptz " + Types.TIMESTAMP + " 35 NO",
            "2 device varchar " + Types.VARCHAR + " 16 YES",
            "3 reading float8 " + Types.DOUBLE + " 17 YES",
            "4 seq int8 " + Types.BIGINT + " 19 YES",
            "5 label text " + Types.VARCHAR + " 2147483647 YES",
            "6 ok bool " + Types.BIT + " 1 YES"), columns);

        try (ResultSet rs = md.getSchemas()) {
            List<String> schemas = new ArrayList<>();
            while (rs.next()) {
                schemas.add(rs.getString("TABLE_SCHEM"));
            }
            check("getSchemas has public", true, schemas.contains("public"));
        }
        try (ResultSet rs = md.getPrimaryKeys(null, "public", "readings")) {
            check("getPrimaryKeys (none)", false, rs.next());
        }
    }

    static void preparedPastThreshold(Connection conn, String mode) throws Exception {
        String sql = "SELECT time, device, reading, seq, label, ok FROM readings WHERE time >= ? AND seq <> ? ORDER BY time";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int run = 1; run <= 8; run++) {
                ps.setObject(1, OffsetDateTime.of(2024, 3, 1, 12, 0, 0, 0, ZoneOffset.UTC));
                ps.setLong(2, 42L);
                String tag = mode + " run " + run;
                try (ResultSet rs = ps.executeQuery()) {
                    if (run == 1) {
                        ResultSetMetaData rmd = rs.getMetaData();
                        check(tag + " column types",
                            "timestamptz varchar float8 int8 text bool",
                            rmd.getColumnTypeName(1) + " " + rmd.getColumnTypeName(2) + " " + rmd.getColumnTypeName(3)
                                + " " + rmd.getColumnTypeName(4) + " " + rmd.getColumnTypeName(5) + " " + rmd.getColumnTypeName(6));
                    }
                    int i = 0;
                    List<String> bad = new ArrayList<>();
                    while (rs.next()) {
                        if (i >= TIMES.length) {
                            bad.add("extra row");
                            break;
                        }
                        Timestamp ts = rs.getTimestamp(1);
                        OffsetDateTime odt = rs.getObject(1, OffsetDateTime.class);
                        if (!TIMES[i].equals(ts.toInstant())) bad.add("row " + i + " getTimestamp " + ts.toInstant());
                        if (!TIMES[i].equals(odt.toInstant())) bad.add("row " + i + " OffsetDateTime " + odt);
                        if (!DEVICES[i].equals(rs.getString(2))) bad.add("row " + i + " device " + rs.getString(2));
                        if (Double.doubleToLongBits(READINGS[i]) != Double.doubleToLongBits(rs.getDouble(3)))
                            bad.add("row " + i + " reading " + rs.getDouble(3));
                        if (SEQS[i] != rs.getLong(4)) bad.add("row " + i + " seq " + rs.getLong(4));
                        if (!Objects.equals(LABELS[i], rs.getString(5))) bad.add("row " + i + " label " + rs.getString(5));
                        boolean okv = rs.getBoolean(6);
                        Boolean ok = rs.wasNull() ? null : okv;
                        if (!Objects.equals(OKS[i], ok)) bad.add("row " + i + " ok " + ok);
                        i++;
                    }
                    if (i != TIMES.length) bad.add("rows " + i);
                    check(tag + " values", List.of(), bad);
                }
            }
            check(mode + " server-prepared after 8 runs", true, ps.unwrap(PGStatement.class).isUseServerPrepare());
        }
        // an aggregate over the same statement shape: numbers through the binary path too
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*), sum(seq), max(reading) FROM readings WHERE device = ?")) {
            for (int run = 1; run <= 7; run++) {
                ps.setString(1, "d1");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    check(mode + " aggregate run " + run, "2 -4 1.0E300",
                        rs.getLong(1) + " " + rs.getLong(2) + " " + rs.getDouble(3));
                }
            }
        }
    }

    static void batchInsertAndReadBack(Connection conn) throws Exception {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jdbc_batch (time, name, v) VALUES (?, ?, ?)")) {
            for (int i = 0; i < 10; i++) {
                ps.setTimestamp(1, Timestamp.from(Instant.parse("2024-01-01T00:00:00Z").plusSeconds(i)));
                ps.setString(2, "n" + i);
                ps.setDouble(3, i * 0.25);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            int total = 0;
            for (int c : counts) total += (c == Statement.SUCCESS_NO_INFO ? 1 : c);
            check("executeBatch rows", 10, total);
        }
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), sum(v), min(time), max(name) FROM jdbc_batch")) {
            rs.next();
            check("batch read back", "10 11.25 2024-01-01T00:00:00Z n9",
                rs.getLong(1) + " " + rs.getDouble(2) + " " + rs.getTimestamp(3).toInstant() + " " + rs.getString(4));
        }
    }
}
