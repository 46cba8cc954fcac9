package herd.agent;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/** An agent's meta-data XML and the parameters it declares (OCF and fence-agents use the same format). */
public record AgentMetadata(AgentId agent, String xml, List<AgentParameter> parameters) {

    public AgentMetadata {
        parameters = List.copyOf(parameters);
    }

    public List<String> requiredParameterNames() {
        return parameters.stream().filter(AgentParameter::required).map(AgentParameter::name).toList();
    }

    public Optional<AgentParameter> parameter(String name) {
        return parameters.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** Parses meta-data XML; a document that is not resource-agent meta-data is an IllegalArgumentException. */
    public static AgentMetadata parse(AgentId agent, String xml) {
        Document document;
        try {
            document = newBuilder().parse(new InputSource(new StringReader(xml)));
        } catch (SAXException | IOException e) {
            throw new IllegalArgumentException("meta-data of " + agent + " is not well-formed XML: " + e.getMessage(), e);
        }
        Element root = document.getDocumentElement();
        if (!root.getTagName().equals("resource-agent")) {
            throw new IllegalArgumentException("meta-data of " + agent + " has root <" + root.getTagName() + ">, not <resource-agent>");
        }
        List<AgentParameter> parameters = new ArrayList<>();
        NodeList nodes = root.getElementsByTagName("parameter");
        for (int i = 0; i < nodes.getLength(); i++) {
            Element parameter = (Element) nodes.item(i);
            Element content = firstChild(parameter, "content");
            Element shortDescription = firstChild(parameter, "shortdesc");
            parameters.add(new AgentParameter(parameter.getAttribute("name"),
                isTrue(parameter.getAttribute("required")), isTrue(parameter.getAttribute("unique")),
                content == null ? "string" : content.getAttribute("type"),
                content == null || !content.hasAttribute("default") ? null : content.getAttribute("default"),
                shortDescription == null ? "" : shortDescription.getTextContent().strip()));
        }
        return new AgentMetadata(agent, xml, parameters);
    }

    private static boolean isTrue(String flag) {
        return flag.equals("1") || flag.equalsIgnoreCase("true") || flag.equalsIgnoreCase("yes");
    }

    private static Element firstChild(Element parent, String tag) {
        NodeList children = parent.getElementsByTagName(tag);
        return children.getLength() == 0 ? null : (Element) children.item(0);
    }

    private static DocumentBuilder newBuilder() {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // Meta-data comes from scripts on disk; still, never fetch or expand external entities.
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            // Agents declare <!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">: accept it, load nothing.
            factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
            factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setExpandEntityReferences(false);
            return factory.newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks secure processing", e);
        }
    }
}
